// The AMQP 1.0 performatives (core spec §2.7 and §5.3.3) as field lists: name, type, mandatory.
// Azure sends every field of a performative's list, trailing nulls included, and clients such as
// Microsoft's Python SDK index fields up to the last one; rhea omits trailing unset fields. The broker
// pads what it sends to these lists, and the wire-conformance test checks what it sends against them.

/** AMQP types as they appear in performative fields; `described` covers source, target, error and states. */
export type FieldType = "boolean" | "ubyte" | "ushort" | "uint" | "ulong" | "string" | "symbol" | "symbols" | "binary" | "fields" | "described" | "any";

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly mandatory?: boolean;
  /** The spec's default: sent instead of null, since clients compute with these fields. */
  readonly default?: number | boolean;
}

export interface PerformativeSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

const f = (name: string, type: FieldType, mandatory = false): FieldSpec => ({ name, type, mandatory });
const d = (name: string, type: FieldType, value: number | boolean): FieldSpec => ({ name, type, default: value });

/** By descriptor code. */
export const PERFORMATIVES: ReadonlyMap<number, PerformativeSpec> = new Map<number, PerformativeSpec>([
  [0x10, { name: "open", fields: [
    f("container-id", "string", true), f("hostname", "string"), d("max-frame-size", "uint", 4294967295), d("channel-max", "ushort", 65535),
    f("idle-time-out", "uint"), f("outgoing-locales", "symbols"), f("incoming-locales", "symbols"),
    f("offered-capabilities", "symbols"), f("desired-capabilities", "symbols"), f("properties", "fields"),
  ] }],
  [0x11, { name: "begin", fields: [
    f("remote-channel", "ushort"), f("next-outgoing-id", "uint", true), f("incoming-window", "uint", true),
    f("outgoing-window", "uint", true), d("handle-max", "uint", 4294967295), f("offered-capabilities", "symbols"),
    f("desired-capabilities", "symbols"), f("properties", "fields"),
  ] }],
  [0x12, { name: "attach", fields: [
    f("name", "string", true), f("handle", "uint", true), f("role", "boolean", true), d("snd-settle-mode", "ubyte", 2),
    d("rcv-settle-mode", "ubyte", 0), f("source", "described"), f("target", "described"), f("unsettled", "any"),
    d("incomplete-unsettled", "boolean", false), f("initial-delivery-count", "uint"), f("max-message-size", "ulong"),
    f("offered-capabilities", "symbols"), f("desired-capabilities", "symbols"), f("properties", "fields"),
  ] }],
  [0x13, { name: "flow", fields: [
    f("next-incoming-id", "uint"), f("incoming-window", "uint", true), f("next-outgoing-id", "uint", true),
    f("outgoing-window", "uint", true), f("handle", "uint"), f("delivery-count", "uint"), f("link-credit", "uint"),
    f("available", "uint"), d("drain", "boolean", false), d("echo", "boolean", false), f("properties", "fields"),
  ] }],
  [0x14, { name: "transfer", fields: [
    f("handle", "uint", true), f("delivery-id", "uint"), f("delivery-tag", "binary"), f("message-format", "uint"),
    f("settled", "boolean"), d("more", "boolean", false), f("rcv-settle-mode", "ubyte"), f("state", "described"),
    d("resume", "boolean", false), d("aborted", "boolean", false), d("batchable", "boolean", false),
  ] }],
  [0x15, { name: "disposition", fields: [
    f("role", "boolean", true), f("first", "uint", true), f("last", "uint"), d("settled", "boolean", false),
    f("state", "described"), d("batchable", "boolean", false),
  ] }],
  [0x16, { name: "detach", fields: [f("handle", "uint", true), d("closed", "boolean", false), f("error", "described")] }],
  [0x17, { name: "end", fields: [f("error", "described")] }],
  [0x18, { name: "close", fields: [f("error", "described")] }],
  [0x40, { name: "sasl-mechanisms", fields: [f("sasl-server-mechanisms", "symbols", true)] }],
  [0x41, { name: "sasl-init", fields: [f("mechanism", "symbol", true), f("initial-response", "binary"), f("hostname", "string")] }],
  [0x42, { name: "sasl-challenge", fields: [f("challenge", "binary", true)] }],
  [0x43, { name: "sasl-response", fields: [f("response", "binary", true)] }],
  [0x44, { name: "sasl-outcome", fields: [f("code", "ubyte", true), f("additional-data", "binary")] }],
]);

/** Format codes each field type may be encoded with (null, 0x40, is always allowed for optional fields). */
export const FORMAT_CODES: Record<Exclude<FieldType, "described" | "any" | "symbols">, readonly number[]> = {
  boolean: [0x56, 0x41, 0x42],
  ubyte: [0x50],
  ushort: [0x60],
  uint: [0x70, 0x52, 0x43],
  ulong: [0x80, 0x53, 0x44],
  string: [0xa1, 0xb1],
  symbol: [0xa3, 0xb3],
  binary: [0xa0, 0xb0],
  fields: [0xc1, 0xd1],
};
