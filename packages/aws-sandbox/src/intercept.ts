/**
 * Test hooks on the request path: an interceptor sees each authenticated request before the
 * service runs it, and may wait (to make two writers interleave, or to hold a reader at a point)
 * or throw (the connection drops, as a network failure would). Not part of any AWS API.
 */

export interface InterceptedRequest {
  /** Signing name: sts, s3, lambda, codepipeline. */
  readonly service: string;
  /** The AWS operation, e.g. PutObject, UpdateFunctionCode. */
  readonly operation: string;
  /** Account of the signing key. */
  readonly accountId: string;
  /** Who signed it: arn:aws:iam::<acct>:root or arn:aws:sts::<acct>:assumed-role/<role>/<session>. */
  readonly callerArn: string;
  readonly method: string;
  /** Path without query string, percent-decoded (S3 path style: /<bucket>/<key>). */
  readonly path: string;
  /** Query parameters, decoded (S3: versionId, list-type…). */
  readonly query: Readonly<Record<string, string>>;
}

export type RequestInterceptor = (request: InterceptedRequest) => void | Promise<void>;

export class InterceptorSet {
  private readonly interceptors = new Set<RequestInterceptor>();

  /** Adds an interceptor and returns a function that removes it. */
  add(interceptor: RequestInterceptor): () => void {
    const entry: RequestInterceptor = (request) => interceptor(request);
    this.interceptors.add(entry);
    return () => this.interceptors.delete(entry);
  }

  async run(request: InterceptedRequest): Promise<void> {
    for (const interceptor of [...this.interceptors]) await interceptor(request);
  }
}
