import { checkAbsoluteUri, checkString, checkTime, checkUriReference, invalid } from "./attributes.js";
import type { DataKind, IncomingEvent } from "./event.js";

/** The context attributes a binding read, as strings (`undefined`: absent). */
export interface ReadAttributes {
  readonly id: string | undefined;
  readonly source: string | undefined;
  readonly type: string | undefined;
  readonly subject: string | undefined;
  readonly time: string | undefined;
  readonly dataschema: string | undefined;
}

/** Checks a URI attribute with `check`; binary mode also tries the undecoded header (parse.ts). */
export type UriReader = (
  name: "source" | "dataschema",
  value: string,
  check: (value: string) => string,
) => string;

const asRead: UriReader = (_name, value, check) => check(value);

/**
 * The event that binary and structured mode both build once its data is read, with the context
 * attributes checked (CloudEvents 1.0, section 3.1): `id`, `source` and `type` required, Strings
 * without control characters, `source` a URI-reference, `dataschema` an absolute URI, `time`
 * RFC 3339. One object literal: no spread on the ingress path.
 */
export function toIncomingEvent(
  read: ReadAttributes,
  datacontenttype: string | undefined,
  extensions: IncomingEvent["extensions"],
  data: { readonly kind: DataKind; readonly value: unknown },
  uri: UriReader = asRead,
): IncomingEvent {
  const { subject, time, dataschema } = read;
  return {
    specversion: "1.0",
    id: checkString("id", required("id", read.id)),
    source: uri("source", required("source", read.source), (v) => checkUriReference("source", v)),
    type: checkString("type", required("type", read.type)),
    subject: subject === undefined ? undefined : checkString("subject", subject),
    time: time === undefined ? undefined : checkTime(time),
    datacontenttype,
    dataschema:
      dataschema === undefined
        ? undefined
        : uri("dataschema", dataschema, (v) => checkAbsoluteUri("dataschema", v)),
    extensions,
    dataKind: data.kind,
    data: data.value,
  };
}

function required(name: string, value: string | undefined): string {
  if (value === undefined) throw invalid(`attribute "${name}" is required`);
  return value;
}
