// The APIs a client uses before it is authenticated: ApiVersions (KIP-35/511), SaslHandshake and
// SaslAuthenticate (KIP-152). A refused login is answered with SASL_AUTHENTICATION_FAILED and the
// connection is then closed, as Kafka brokers and Event Hubs do.
import { Writer } from "../codec";
import { SUPPORTED_APIS } from "../api-keys";
import { responseWriter, type KafkaRequest } from "../context";
import { ERROR } from "../errors";
import { authenticatePlain, PLAIN_MECHANISM } from "../sasl-plain";

const MECHANISMS = [PLAIN_MECHANISM];

/**
 * ApiVersions. A version newer than we serve is answered in v0 form with UNSUPPORTED_VERSION and our
 * table, so the client retries with one we know (KIP-511).
 */
export function apiVersions(request: KafkaRequest, unsupported = false): Writer {
  const { body } = request;
  if (!unsupported && request.apiVersion >= 3) {
    body.string(); // client software name
    body.string(); // client software version
    body.taggedFields();
  }
  const version = unsupported ? 0 : request.apiVersion;
  const out = unsupported ? new Writer(false) : responseWriter(request);
  out.int16(unsupported ? ERROR.unsupportedVersion : ERROR.none);
  out.array(SUPPORTED_APIS, (w, api) => {
    w.int16(api.key).int16(api.min).int16(api.max).taggedFields();
  });
  if (version >= 1) out.int32(0); // throttle time
  return out.taggedFields();
}

export function saslHandshake(request: KafkaRequest): Writer {
  const mechanism = request.body.string();
  const out = responseWriter(request);
  const supported = MECHANISMS.includes(mechanism);
  if (supported) {
    request.connection.saslMechanism = mechanism;
    request.connection.rawSaslTokenNext = request.apiVersion === 0;
  } else {
    request.connection.closeAfterResponse = `unsupported SASL mechanism '${mechanism}'`;
  }
  out.int16(supported ? ERROR.none : ERROR.unsupportedSaslMechanism);
  return out.array(MECHANISMS, (w, name) => w.string(name));
}

/** Checks a PLAIN token and records the principal; undefined when it is accepted, else the reason. */
export function login(request: Pick<KafkaRequest, "connection" | "server">, token: Buffer): string | undefined {
  const outcome = authenticatePlain(token, request.server.config);
  if (!outcome.ok) return outcome.reason;
  request.connection.principal = outcome.principal;
  return undefined;
}

export function saslAuthenticate(request: KafkaRequest): Writer {
  const { body, connection } = request;
  const token = body.bytes();
  body.taggedFields();
  let error: string | undefined;
  if (connection.saslMechanism === undefined) error = "SaslAuthenticate before SaslHandshake";
  else if (connection.principal !== undefined) error = "the connection is already authenticated";
  else error = login(request, token);
  if (error !== undefined) connection.closeAfterResponse = `SASL authentication failed: ${error}`;
  const out = responseWriter(request);
  out.int16(error === undefined ? ERROR.none : connection.saslMechanism === undefined ? ERROR.illegalSaslState : ERROR.saslAuthenticationFailed);
  out.nullableString(error === undefined ? null : `Authentication failed: ${error}`);
  out.bytes(Buffer.alloc(0));
  if (request.apiVersion >= 1) out.int64(0); // session lifetime: no re-authentication required
  return out.taggedFields();
}
