// The workflow bundle's entry point: every workflow the worker registers.
export { pipelineWorkflow, progressQuery } from './pipeline';
