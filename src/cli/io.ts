/**
 * `io` with `extra` added, its getters kept as getters: spreading would read `stdin`,
 * which creates the stream (and loads Node's stream modules) for commands that never ask.
 */
export function withIO<I extends object, T extends object>(io: I, extra: T): Omit<I, keyof T> & T {
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(io), ...Object.getOwnPropertyDescriptors(extra) }) as Omit<I, keyof T> & T;
}
