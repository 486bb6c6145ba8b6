import type { FaultKind } from './fault-policy.ts';

/** Whose error format the proxy imitates when it answers with an error itself. */
export type FaultDialect = 's3' | 'azure' | 'plain';

/** An error answer the proxy sends instead of forwarding. */
export interface FaultAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

type ErrorKind = Extract<FaultKind, 'status-500' | 'status-503' | 'slowdown'>;

// The error codes are the services' documented ones (clients branch on them); the messages are ours.
const S3_ERRORS: Record<ErrorKind, { status: number; code: string; message: string }> = {
  'status-500': { status: 500, code: 'InternalError', message: 'Injected fault: the server failed internally; retry the request.' },
  'status-503': { status: 503, code: 'ServiceUnavailable', message: 'Injected fault: the service is unavailable; retry later.' },
  slowdown: { status: 503, code: 'SlowDown', message: 'Injected fault: too many requests; lower the request rate.' },
};

const AZURE_ERRORS: Record<ErrorKind, { status: number; code: string; message: string }> = {
  'status-500': { status: 500, code: 'InternalError', message: 'Injected fault: the server failed internally; retry the request.' },
  'status-503': { status: 503, code: 'ServerBusy', message: 'Injected fault: the server is busy; retry later.' },
  slowdown: { status: 503, code: 'ServerBusy', message: 'Injected fault: the account is over its request rate; lower the request rate.' },
};

/** The error answer for `kind` in `dialect`; `id` becomes the request id the body and headers carry. */
export function faultAnswer(kind: ErrorKind, dialect: FaultDialect, id: string): FaultAnswer {
  switch (dialect) {
    case 's3': {
      const e = S3_ERRORS[kind];
      return {
        status: e.status,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': id },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message}</Message><RequestId>${id}</RequestId><HostId>fault-proxy</HostId></Error>`,
      };
    }
    case 'azure': {
      const e = AZURE_ERRORS[kind];
      return {
        status: e.status,
        headers: { 'content-type': 'application/xml', 'x-ms-error-code': e.code, 'x-ms-request-id': id, 'x-ms-version': '2021-12-02' },
        body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${e.code}</Code><Message>${e.message}\nRequestId:${id}\nTime:${new Date().toISOString()}</Message></Error>`,
      };
    }
    case 'plain':
      return { status: kind === 'status-500' ? 500 : 503, headers: { 'content-type': 'text/plain' }, body: `injected fault: ${kind}\n` };
  }
}
