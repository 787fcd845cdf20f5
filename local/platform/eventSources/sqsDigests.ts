import { createHash } from "node:crypto";

/** A message attribute as Lambda's SQS event writes it (camelCase; binary values as base64 text). */
export interface MessageAttributeValue {
  /** "String", "Number", "Binary", optionally with a custom label ("Number.int"). */
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: string;
}

/** SQS's MD5OfMessageBody: the MD5 of the body's UTF-8 bytes, hex. */
export function md5OfBody(body: string): string {
  return createHash("md5").update(body, "utf8").digest("hex");
}

/**
 * SQS's MD5OfMessageAttributes: attributes sorted by name, each as length-prefixed name, length-prefixed data type,
 * a transport byte (1 string/number, 2 binary) and the length-prefixed value, all hashed together. Undefined when
 * there are no attributes, as SQS leaves it out.
 */
export function md5OfMessageAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): string | undefined {
  const names = Object.keys(attributes).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (names.length === 0) return undefined;
  const hash = createHash("md5");
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  for (const name of names) {
    const attribute = attributes[name]!;
    lengthPrefixed(Buffer.from(name, "utf8"));
    lengthPrefixed(Buffer.from(attribute.dataType, "utf8"));
    if (attribute.dataType.startsWith("Binary")) {
      hash.update(Buffer.of(2));
      lengthPrefixed(Buffer.from(attribute.binaryValue ?? "", "base64"));
    } else {
      hash.update(Buffer.of(1));
      lengthPrefixed(Buffer.from(attribute.stringValue ?? "", "utf8"));
    }
  }
  return hash.digest("hex");
}
