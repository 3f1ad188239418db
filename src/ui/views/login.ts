/** Sign-in form, shown when the server answers 401 (auth on). The password never leaves this form but in the POST. */
import type { ApiClient } from '../api-client.ts';
import { ApiError } from '../api-error.ts';
import { el, setText } from '../dom.ts';
import { labelled } from './form-fields.ts';

export interface LoginView {
  element: HTMLElement;
  show(): void;
}

export function createLoginView(api: ApiClient, onSignedIn: () => void): LoginView {
  const name = labelled('User name', el('input', { type: 'text', autocomplete: 'username', required: true }));
  const password = labelled('Password', el('input', { type: 'password', autocomplete: 'current-password', required: true }));
  const message = el('p', { class: 'error', role: 'alert' });
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = el('form', { class: 'login', 'aria-label': 'Sign in' }, el('h2', {}, 'Sign in'), name.row, password.row, message, submit);
  const element = el('section', { class: 'login-view', hidden: true }, form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    setText(message, '');
    try {
      await api.signIn(name.control.value, password.control.value);
      password.control.value = '';
      element.hidden = true;
      onSignedIn();
    } catch (error) {
      setText(message, error instanceof ApiError && error.status === 401 ? 'Wrong user name or password.' : error instanceof Error ? error.message : 'Sign-in failed.');
    } finally {
      submit.disabled = false;
    }
  });

  return {
    element,
    show() {
      element.hidden = false;
      name.control.focus();
    },
  };
}
