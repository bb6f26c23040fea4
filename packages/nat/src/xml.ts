// A small, strict XML reader for UPnP descriptions and SOAP replies, replacing nat-upnp's xml2js 0.1
// (prototype pollution, fixed only in 0.5). No DTDs, no custom entities, bounded depth; output
// objects have no prototype, so keys like `__proto__` in a hostile document stay plain data.
import { MAX_XML_DEPTH } from './constants.js'
import { NatError } from './errors.js'

export interface XmlElement {
  /** qualified name as written, e.g. 's:Envelope' */
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  /** concatenated character data directly inside this element */
  text: string
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9._:]*/
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

function fail(reason: string, at: number): never {
  throw NatError.INVALID_RESPONSE('XML document', new Error(`${reason} at offset ${at}`))
}

function decodeEntities(raw: string, at: number): string {
  return raw.replace(/&([^;&\s]{1,10});|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) fail('bare "&"', at)
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      const digits = ref[1] === 'x' ? /^#x[0-9A-Fa-f]+$/ : /^#[0-9]+$/
      if (!digits.test(ref) || !(code >= 1 && code <= 0x10ffff)) fail(`bad character reference ${whole}`, at)
      return String.fromCodePoint(code)
    }
    const value = Object.hasOwn(ENTITIES, ref) ? ENTITIES[ref] : undefined
    if (value === undefined) fail(`unknown entity ${whole}`, at)
    return value
  })
}

/** Parses a whole document and returns its root element, or throws `ERR_INVALID_RESPONSE`. */
export function parseXml(input: string, maxDepth = MAX_XML_DEPTH): XmlElement {
  let i = input.charCodeAt(0) === 0xfeff ? 1 : 0
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  const n = input.length
  while (i < n) {
    const lt = input.indexOf('<', i)
    const textEnd = lt === -1 ? n : lt
    if (textEnd > i) {
      const raw = input.slice(i, textEnd)
      const top = stack[stack.length - 1]
      if (top !== undefined) top.text += decodeEntities(raw, i)
      else if (raw.trim() !== '') fail('text outside the root element', i)
      i = textEnd
      continue
    }
    if (input.startsWith('<?', i)) {
      const end = input.indexOf('?>', i + 2)
      if (end === -1) fail('unterminated processing instruction', i)
      i = end + 2
    } else if (input.startsWith('<!--', i)) {
      const end = input.indexOf('-->', i + 4)
      if (end === -1) fail('unterminated comment', i)
      i = end + 3
    } else if (input.startsWith('<![CDATA[', i)) {
      const end = input.indexOf(']]>', i + 9)
      const top = stack[stack.length - 1]
      if (end === -1 || top === undefined) fail('misplaced or unterminated CDATA', i)
      top.text += input.slice(i + 9, end)
      i = end + 3
    } else if (input.startsWith('<!', i)) {
      fail('DTDs and declarations are not accepted', i)
    } else if (input.startsWith('</', i)) {
      const m = NAME.exec(input.slice(i + 2, i + 2 + 256))
      const top = stack.pop()
      if (m === null || top === undefined || m[0] !== top.name) fail('mismatched end tag', i)
      let j = i + 2 + m[0].length
      while (j < n && /\s/.test(input[j] ?? '')) j++
      if (input[j] !== '>') fail('malformed end tag', i)
      i = j + 1
      if (stack.length === 0) root = top
    } else {
      if (root !== undefined) fail('content after the root element', i)
      const m = NAME.exec(input.slice(i + 1, i + 1 + 256))
      if (m === null) fail('malformed start tag', i)
      const element: XmlElement = { name: m[0], attributes: Object.create(null), children: [], text: '' }
      let j = i + 1 + m[0].length
      for (;;) {
        const ws = j
        while (j < n && /\s/.test(input[j] ?? '')) j++
        if (input.startsWith('/>', j) || input[j] === '>') break
        const a = NAME.exec(input.slice(j, j + 256))
        if (a === null || ws === j) fail('malformed attribute', j)
        j += a[0].length
        while (j < n && /\s/.test(input[j] ?? '')) j++
        if (input[j] !== '=') fail('attribute without value', j)
        j++
        while (j < n && /\s/.test(input[j] ?? '')) j++
        const quote = input[j]
        if (quote !== '"' && quote !== "'") fail('unquoted attribute value', j)
        const close = input.indexOf(quote, j + 1)
        if (close === -1) fail('unterminated attribute value', j)
        const value = input.slice(j + 1, close)
        if (value.includes('<')) fail('"<" in attribute value', j)
        if (Object.hasOwn(element.attributes, a[0])) fail(`duplicate attribute ${a[0]}`, j)
        element.attributes[a[0]] = decodeEntities(value, j)
        j = close + 1
      }
      const parent = stack[stack.length - 1]
      if (parent !== undefined) parent.children.push(element)
      if (input.startsWith('/>', j)) {
        i = j + 2
        if (parent === undefined) root = element
      } else {
        if (stack.length >= maxDepth) fail(`nesting deeper than ${maxDepth}`, i)
        stack.push(element)
        i = j + 1
      }
    }
  }
  if (stack.length > 0 || root === undefined) fail('unexpected end of document', n)
  return root
}

/** A document value in the shape nat-upnp expects (xml2js 0.1 without the root element). */
export type ShapedXml = string | { [key: string]: ShapedXml | ShapedXml[] }

/**
 * Converts an element to xml2js-0.1's shape: text-only elements become strings, attributes go under
 * '@', repeated children become arrays, text beside children goes under '#'. Objects have no prototype.
 */
export function toShaped(element: XmlElement): ShapedXml {
  const hasAttributes = Object.keys(element.attributes).length > 0
  if (element.children.length === 0 && !hasAttributes) return element.text.trim()
  const out: { [key: string]: ShapedXml | ShapedXml[] } = Object.create(null)
  if (hasAttributes) {
    const attrs: { [key: string]: ShapedXml } = Object.create(null)
    for (const [k, v] of Object.entries(element.attributes)) attrs[k] = v
    out['@'] = attrs
  }
  for (const child of element.children) {
    const value = toShaped(child)
    const existing = Object.hasOwn(out, child.name) ? out[child.name] : undefined
    if (existing === undefined) out[child.name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else out[child.name] = [existing, value]
  }
  const text = element.text.trim()
  if (text !== '') out['#'] = text
  return out
}
