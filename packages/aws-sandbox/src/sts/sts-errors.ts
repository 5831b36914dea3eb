import type { AwsError, SandboxRequest, SandboxResponse } from '../contracts.js';
import { generateRequestId } from '../ids.js';
import { escapeXml } from '../xml.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** The Query protocol's error document, which the SDK turns into the matching exception class. */
export function renderStsError(error: AwsError, req: SandboxRequest): SandboxResponse {
  const requestId = req.requestId ?? generateRequestId();
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${STS_NAMESPACE}">` +
    `<Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status: error.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}
