/** A deployment failure the operator can act on: printed as one line, never with a stack. */
export class DeployError extends Error {
  override name = 'DeployError';
}
