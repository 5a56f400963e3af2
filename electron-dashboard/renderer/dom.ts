/**
 * Builds elements from text only (never innerHTML): every string the relay sends (session names,
 * display names, document paths) is shown as text, so nothing in them can run.
 */

type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  onClick?: (event: Event) => void;
  onKey?: (event: KeyboardEvent) => void;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.text !== undefined) element.textContent = props.text;
  if (props.title) element.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  if (props.onClick) element.addEventListener('click', props.onClick);
  const onKey = props.onKey;
  if (onKey) element.addEventListener('keydown', (event) => onKey(event as KeyboardEvent));
  for (const child of children) if (child) element.append(child);
  return element;
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((child): child is Node | string => Boolean(child)));
}

/** A table with a header row and body rows; `cells` of a row are text or nodes. */
export function table(headers: string[], rows: Array<{ cells: Child[]; props?: Props }>, props: Props = {}): HTMLTableElement {
  return h(
    'table',
    props,
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { text: header })))),
    h('tbody', {}, ...rows.map((row) => h('tr', row.props ?? {}, ...row.cells.map((cell) => h('td', {}, cell))))),
  );
}
