/**
 * Base class of every error thrown by the `@cm` packages.
 *
 * Errors are told apart by their `name` (never by a `code` string). Each subclass has a
 * static `isInstance()` guard that also recognises errors created by a second copy of the
 * package (two installed versions), where `instanceof` would fail.
 *
 * @example
 * ```ts
 * import { CmError } from '@cm/config'
 *
 * try {
 *   doSomething()
 * } catch (error) {
 *   if (CmError.isInstance(error)) {
 *     console.error(`${error.name}: ${error.message}`)
 *   }
 * }
 *
 * function doSomething (): void {}
 * ```
 */
export class CmError extends Error {
  /** The error's name; subclasses override it with their own. */
  static override readonly name: string = 'CmError'

  /**
   * @param message - a sentence saying what went wrong
   * @param options - `cause`, the error that led to this one, if any
   */
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    // The names of this class and its ancestors, so that `isInstance` works across copies.
    // Stryker disable next-line ArrayDeclaration: an extra name that no class has changes no answer
    const names: string[] = []
    // Stryker disable next-line ConditionalExpression: the chain always reaches Error, a function; past it come only Function.prototype ('') and Object.prototype
    for (let type: unknown = new.target; typeof type === 'function' && type !== Error; type = Object.getPrototypeOf(type)) {
      names.push((type as { name: string }).name)
    }
    Object.defineProperty(this, MARKER, { value: Object.freeze(names), enumerable: false })
  }

  /**
   * Whether `value` is an error of this class (or a subclass), also across duplicate
   * installs of the package.
   *
   * @example
   * ```ts
   * import { CmError, InvalidConfigError } from '@cm/config'
   *
   * const error: unknown = new Error('boom')
   * CmError.isInstance(error) // false
   * InvalidConfigError.isInstance(error) // false
   * ```
   */
  static isInstance<T extends abstract new (...args: never[]) => CmError>(this: T, value: unknown): value is InstanceType<T> {
    // Stryker disable next-line ConditionalExpression,BlockStatement: a fast path; an instance of this copy carries the names too
    if (value instanceof this) {
      return true
    }
    if (typeof value !== 'object' || value === null) {
      return false
    }
    const names = (value as { [MARKER]?: unknown })[MARKER]
    return Array.isArray(names) && names.includes((this as unknown as { name: string }).name)
  }
}

const MARKER = Symbol.for('@cm/error')
