/**
 * A minimal observable value: views subscribe, actions set. Listeners run only when the value actually changes
 * (by identity), so reducers return the same object for "nothing happened".
 */
export interface Store<T> {
  get(): T;
  set(next: T | ((current: T) => T)): void;
  /** Calls `listener` now and after every change; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => value,
    set(next) {
      const updated = typeof next === 'function' ? (next as (current: T) => T)(value) : next;
      if (Object.is(updated, value)) return;
      value = updated;
      for (const listener of [...listeners]) listener(value);
    },
    subscribe(listener) {
      listeners.add(listener);
      listener(value);
      return () => void listeners.delete(listener);
    },
  };
}
