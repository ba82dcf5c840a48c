/**
 * A strict, minimal XML 1.0 well-formedness parser for the tests' feed checks: no XML
 * parser ships in node_modules (a devDependency such as fast-xml-parser could replace
 * this file). It throws on what a conforming parser rejects in documents like ours:
 * unclosed or mismatched tags, a stray `<` or `&`, unknown entities, unquoted or
 * duplicate attributes, text or a second element outside the root. No DTDs.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text content of this element (not of its descendants). */
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`"<" not allowed in text or attribute value near offset ${where}`);
  return raw.replace(/&([^;\s&]*);?/g, (match, name: string) => {
    if (!match.endsWith(';')) throw new Error(`bare "&" near offset ${where}`);
    if (name in ENTITIES) return ENTITIES[name]!;
    const num = /^#(\d+)$/.exec(name) ?? /^#x([0-9a-fA-F]+)$/.exec(name);
    if (num) return String.fromCodePoint(parseInt(num[1]!, name.startsWith('#x') ? 16 : 10));
    throw new Error(`unknown entity &${name}; near offset ${where}`);
  });
}

export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const textEnd = lt < 0 ? source.length : lt;
    const raw = source.slice(i, textEnd);
    if (raw.length > 0) {
      const text = decode(raw, i);
      const parent = stack.at(-1);
      if (parent) parent.text += text;
      else if (text.trim()) throw new Error(`text outside the root element near offset ${i}`);
    }
    if (lt < 0) break;
    i = lt;
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i + 4);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', i)) {
      const end = source.indexOf(']]>', i);
      if (end < 0 || !stack.length) throw new Error('bad CDATA section');
      stack.at(-1)!.text += source.slice(i + 9, end);
      i = end + 3;
    } else if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i);
      if (end < 0) throw new Error('unterminated processing instruction');
      i = end + 2;
    } else if (source.startsWith('<!', i)) {
      throw new Error('DTDs are not supported (and an Atom feed has none)');
    } else if (source.startsWith('</', i)) {
      const name = NAME.exec(source.slice(i + 2))?.[0];
      const open = stack.pop();
      if (!name || !open || open.name !== name) throw new Error(`mismatched </${name}> near offset ${i} (open: ${open?.name})`);
      i += 2 + name.length;
      while (/\s/.test(source[i] ?? '')) i++;
      if (source[i] !== '>') throw new Error(`bad end tag </${name}> near offset ${i}`);
      i++;
    } else {
      const name = NAME.exec(source.slice(i + 1))?.[0];
      if (!name) throw new Error(`"<" not followed by a name near offset ${i}`);
      if (!stack.length && root) throw new Error(`a second root element <${name}>`);
      const element: XmlElement = { name, attributes: {}, children: [], text: '' };
      i += 1 + name.length;
      for (;;) {
        const space = /^\s*/.exec(source.slice(i))![0].length;
        i += space;
        if (source.startsWith('/>', i)) { i += 2; break; }
        if (source[i] === '>') { i += 1; stack.push(element); break; }
        if (!space) throw new Error(`attributes must be separated by spaces in <${name}> near offset ${i}`);
        const attr = /^([A-Za-z_:][A-Za-z0-9_:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(source.slice(i));
        if (!attr) throw new Error(`bad attribute in <${name}> near offset ${i}`);
        if (attr[1]! in element.attributes) throw new Error(`duplicate attribute ${attr[1]} in <${name}>`);
        element.attributes[attr[1]!] = decode(attr[3] ?? attr[4] ?? '', i);
        i += attr[0].length;
      }
      const parent = stack.at(element === stack.at(-1) ? -2 : -1);
      if (parent) parent.children.push(element);
      else root = element;
    }
  }
  if (stack.length) throw new Error(`<${stack.at(-1)!.name}> is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}
