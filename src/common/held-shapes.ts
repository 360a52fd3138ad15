/**
 * Objects held for the process's life so that the hidden classes they have stay alive.
 *
 * V8 reaches an object's hidden class through transitions it holds weakly (one per field a class
 * or `Object.defineProperty` adds): once no object has the class, a full GC drops it, and with it
 * the optimized code of every function that was specialised to it. An object made per collection
 * and dropped before the next one (a store's label column, a family) would lose its class at each
 * full GC between two scrapes, and the readers would restart in the interpreter at the next one.
 * One object of each such class, held here, keeps the class and that code.
 */
const held: object[] = [];

/** Holds `o` for the process's life and returns it. */
export function holdShape<T extends object>(o: T): T {
  held.push(o);
  return o;
}
