import { describe, expect, it } from 'vitest'
import { ConnectionRefusedError, DialDeniedError, DialTimeoutError, ManagerStoppedError, NotStartedError } from '../src/errors.ts'

describe('manager errors', () => {
  it('NotStartedError - names the operation', () => {
    const error = new NotStartedError('dial')
    expect([error.name, error.message, error.operation]).toEqual(['NotStartedError', 'The connection manager is not started: cannot dial', 'dial'])
  })

  it('DialDeniedError - names the address, the reason and the rule when there is one', () => {
    const withRule = new DialDeniedError('/ip4/192.0.2.1/tcp/1', 'deny-list', '192.0.2.0/24')
    expect([withRule.name, withRule.message, withRule.address, withRule.reason, withRule.rule])
      .toEqual(['DialDeniedError', 'Dial to /ip4/192.0.2.1/tcp/1 refused: deny-list (192.0.2.0/24)', '/ip4/192.0.2.1/tcp/1', 'deny-list', '192.0.2.0/24'])
    const withoutRule = new DialDeniedError('/ip4/192.0.2.1/tcp/1', 'invalid-address')
    expect([withoutRule.message, withoutRule.rule]).toEqual(['Dial to /ip4/192.0.2.1/tcp/1 refused: invalid-address', undefined])
  })

  it('DialTimeoutError - names the address and the timeout', () => {
    const error = new DialTimeoutError('/ip4/192.0.2.1/tcp/1', 5000)
    expect([error.name, error.message, error.address, error.timeoutMs]).toEqual(['DialTimeoutError', 'Dial to /ip4/192.0.2.1/tcp/1 timed out after 5000 ms', '/ip4/192.0.2.1/tcp/1', 5000])
  })

  it('ConnectionRefusedError - names the address and the reason', () => {
    const error = new ConnectionRefusedError('/ip4/192.0.2.1/tcp/1', 'max-connections')
    expect([error.name, error.message, error.address, error.reason])
      .toEqual(['ConnectionRefusedError', 'Connection to /ip4/192.0.2.1/tcp/1 was closed by the manager: max-connections', '/ip4/192.0.2.1/tcp/1', 'max-connections'])
  })

  it('ManagerStoppedError - says the manager stopped', () => {
    const error = new ManagerStoppedError()
    expect([error.name, error.message]).toEqual(['ManagerStoppedError', 'The connection manager stopped'])
  })
})
