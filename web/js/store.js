// A small store: one state object, replaced (never mutated) by `set`, and listeners told which keys
// changed. The page's modules read it and write it; none keeps its own copy of shared state.

/**
 * @template S
 * @param {S} initial
 */
export function createStore(initial) {
  let state = Object.freeze({ ...initial });
  const listeners = new Set();
  return {
    /** The current state (frozen: change it with `set`). */
    get() {
      return state;
    },
    /** Merges `patch` into the state and tells the listeners which keys now hold another value. */
    set(patch) {
      const before = state;
      state = Object.freeze({ ...state, ...patch });
      const changed = Object.keys(patch).filter((k) => before[k] !== state[k]);
      if (changed.length === 0) return;
      for (const listener of listeners) listener(state, changed);
    },
    /** Calls `listener(state, changedKeys)` after each change; returns the function that stops it. */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
