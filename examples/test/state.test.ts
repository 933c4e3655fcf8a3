import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../src/state.ts', import.meta.url))

describe('examples/state.ts', () => {
  it('tracks three loopback connections, survives a throwing listener and reports the closes by reason', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 })
    expect(output).toContain('a listener failed (a bug in a listener); the tracker carries on')
    expect(output).toContain('From 127.0.0.1: 3 connections; inbound open: 3')
    expect(output).toMatch(/close {2}#\d+ from closing: pruned/)
    expect(output).toContain('"closed":3')
    expect(output).toContain('"pruned":1,')
    expect(output).toContain('"remote":2,')
  })
})
