import { CmError } from '@cm/config'
import { describe, expect, it } from 'vitest'
import { ConnectionClosedError, InvalidArgumentError, InvalidTransitionError, PeerMismatchError, TrackerFullError, UnknownConnectionError } from '../src/errors.ts'

describe('errors', () => {
  it('each error has its own name, extends CmError and carries its fields', () => {
    const errors = [
      [new UnknownConnectionError(7), 'UnknownConnectionError', { id: 7 }, 'No connection with ID 7 (number) was added to this tracker'],
      [new InvalidTransitionError(3, 'pending', 'closing'), 'InvalidTransitionError', { id: 3, from: 'pending', to: 'closing' }, 'Connection 3 cannot go from pending to closing; the allowed transitions are pending → open, pending → closed, open → closing, open → closed and closing → closed'],
      [new ConnectionClosedError(4, 'tag'), 'ConnectionClosedError', { id: 4, operation: 'tag' }, 'Connection 4 is closed: tag() changes only connections that are pending, open or closing'],
      [new PeerMismatchError(5, 'a', 'b'), 'PeerMismatchError', { id: 5, peer: 'a', given: 'b' }, 'Connection 5 belongs to peer a; it cannot be identified as b'],
      [new InvalidArgumentError('direction', '"inbound" or "outbound"', 'up'), 'InvalidArgumentError', { argument: 'direction', received: '"up" (string)' }, 'Expected `direction` to be "inbound" or "outbound", got "up" (string)'],
      [new TrackerFullError(10), 'TrackerFullError', { capacity: 10 }, 'The tracker holds 10 connections, as many as it can; close some before adding more']
    ] as const
    for (const [error, name, fields, message] of errors) {
      expect(error.name).toBe(name)
      expect(error.message).toBe(message)
      expect(error).toMatchObject(fields)
      expect(CmError.isInstance(error)).toBe(true)
      expect((error.constructor as typeof CmError).isInstance(error)).toBe(true)
    }
    expect(UnknownConnectionError.isInstance(new TrackerFullError(1))).toBe(false)
  })
})
