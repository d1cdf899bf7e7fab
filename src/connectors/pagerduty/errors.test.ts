import { describe, expect, it } from 'vitest';
import { classifyResponse, parseErrorBody } from './errors.ts';

describe('parseErrorBody', () => {
  it.each([
    ['documented envelope', '{"error":{"message":"Arguments Caused Error","code":2002,"errors":["Offset+limit exceeds maximum allowed value of 10000."]}}', 2002, 'Arguments Caused Error', 1],
    ['error array', '{"error":["Internal Error"]}', null, 'Internal Error', 1],
    ['error string', '{"error":"Rate Limit Exceeded"}', null, 'Rate Limit Exceeded', 0],
    ['bare array', '["first","second"]', null, 'first', 2],
    ['plain text', 'Service Unavailable', null, 'Service Unavailable', 0],
    ['empty body', '', null, '', 0],
    ['html page', '<html><body>502 Bad Gateway</body></html>', null, '<html><body>502 Bad Gateway</body></html>', 0],
    ['json null', 'null', null, 'null', 0],
  ])('reads %s', (_name, text, code, message, detailCount) => {
    const body = parseErrorBody(text);
    expect(body.code).toBe(code);
    expect(body.message).toBe(message);
    expect(body.details).toHaveLength(detailCount);
  });
});

describe('classifyResponse', () => {
  const request = 'GET /users';

  it.each([
    [401, '{"error":{"message":"Authentication failed","code":2006}}', 'unauthorized'],
    [402, '{"error":{"message":"Required abilities are unavailable","code":2014}}', 'plan_gated'],
    [403, '{"error":{"message":"Access Denied","code":2010}}', 'forbidden'],
    [404, '{"error":{"message":"Not Found","code":2100}}', 'not_found'],
    [429, '', 'rate_limited'],
    [500, '{"error":["Internal Error"]}', 'server'],
    [503, 'Service Unavailable', 'server'],
    [408, '', 'server'],
    [400, '{"error":{"message":"Arguments Caused Error","code":2002,"errors":["Offset+limit exceeds maximum allowed value of 10000."]}}', 'offset_cap'],
    [400, '{"error":{"message":"Invalid Input Provided","code":2001}}', 'invalid_request'],
  ])('maps HTTP %i to its kind', (status, text, kind) => {
    expect(classifyResponse(status, parseErrorBody(text), request).kind).toBe(kind);
  });

  it('keeps code and details in the message', () => {
    const error = classifyResponse(400, parseErrorBody('{"error":{"message":"Invalid Input Provided","code":2001,"errors":["since must be before until"]}}'), request);
    expect(error.code).toBe(2001);
    expect(error.message).toBe('Invalid Input Provided: since must be before until');
    expect(error.request).toBe(request);
  });
});
