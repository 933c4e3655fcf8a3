import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'

/** A redis-server process of a test's own, on 127.0.0.1 and a free port, in a temporary folder. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** Kills the server at once (SIGKILL: no save, as a crash). */
  kill(): Promise<void>
  /** Starts it again on the same port and folder (with AOF, the data comes back). */
  restart(): Promise<void>
  /** Kills it and removes its folder. */
  stop(): Promise<void>
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Append-only file on (`appendfsync always`): data survives a kill. Default false. */
  readonly appendOnly?: boolean
  /** More `--name value` arguments, such as ACL users or TLS settings. */
  readonly args?: readonly string[]
  /** The port to listen on instead of a free one (for the plain port when TLS is on). */
  readonly port?: number
}

/** A free TCP port on 127.0.0.1. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

const READY = /Ready to accept connections/

async function launch (port: number, dir: string, options: StartRedisOptions): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--daemonize', 'no',
    '--save', '',
    '--appendonly', options.appendOnly === true ? 'yes' : 'no',
    ...(options.appendOnly === true ? ['--appendfsync', 'always'] : []),
    ...(options.args ?? [])
  ]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { fail(new Error('did not report "Ready to accept connections" within 10 s')) }, 10_000)
    const fail = (error: Error): void => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`redis-server could not be started (${error.message}). The fleet tests need Debian's redis-server on the PATH ` +
        `(\`apt-get install -y redis-server\`; .ci/run installs it).\n${output}`))
    }
    const onExit = (code: number | null): void => { fail(new Error(`it exited with code ${String(code)}`)) }
    child.once('error', fail)
    child.once('exit', onExit)
    const onData = (data: Buffer): void => {
      output += data.toString()
      if (READY.test(output)) {
        clearTimeout(timer)
        // Only our own listeners, and only once: a later log line (a client's failed TLS
        // handshake, say) must not remove the 'exit' listener kill() adds.
        child.off('exit', onExit)
        child.off('error', fail)
        for (const stream of [child.stdout, child.stderr]) {
          stream?.off('data', onData)
          stream?.resume() // still drained, so that redis-server never blocks on a full pipe
        }
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
  })
  return child
}

async function kill (child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>(resolve => {
    child.once('exit', () => { resolve() })
    child.kill('SIGKILL')
  })
}

/**
 * Starts a redis-server process for a test. Throws (the test fails, it is not skipped)
 * when redis-server is missing or does not start.
 */
export async function startRedis (options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cm-fleet-redis-'))
  const port = options.port ?? await freePort()
  let child: ChildProcess | undefined = await launch(port, dir, options)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: async () => {
      await kill(child)
      child = undefined
    },
    restart: async () => {
      await kill(child)
      child = await launch(port, dir, options)
    },
    stop: async () => {
      await kill(child)
      child = undefined
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
