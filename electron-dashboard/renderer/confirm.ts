import { h } from './dom';

/**
 * Asks before an operator action, in a modal <dialog> (no window.confirm: the same in the browser
 * and in Electron, and it says exactly what will happen). Resolves true only for the action button.
 */
export function confirmAction(title: string, detail: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', attrs: { id: 'confirm-dialog' } });
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h('h3', { text: title }),
      h('p', { text: detail }),
      h(
        'div',
        { class: 'actions' },
        h('button', { text: 'Cancel', attrs: { id: 'confirm-cancel' }, onClick: () => done(false) }),
        h('button', { class: 'danger', text: action, attrs: { id: 'confirm-ok' }, onClick: () => done(true) }),
      ),
    );
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}
