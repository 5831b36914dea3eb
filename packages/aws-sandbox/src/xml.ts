/** Minimal XML helpers: the sandbox only writes flat AWS response shapes and reads tiny request bodies. */

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  readonly [name: string]: XmlValue;
}

/** Renders `{Name: value}` trees; arrays repeat the element, undefined omits it. */
export function renderXmlElements(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) out += renderXmlElement(name, value);
  return out;
}

function renderXmlElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((item) => renderXmlElement(name, item)).join('');
  if (typeof value === 'object') return `<${name}>${renderXmlElements(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document with the XML declaration and the root's namespace. */
export function renderXmlDocument(root: string, namespace: string, body: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${namespace}">${renderXmlElements(body)}</${root}>`;
}

/** Text of the first `<name>` element, unescaped; enough for VersioningConfiguration and friends. */
export function readXmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(xml);
  if (!match || match[1] === undefined) return undefined;
  return match[1]
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
