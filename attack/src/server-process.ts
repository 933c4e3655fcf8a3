import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { countKernelSockets, processCpuSeconds } from './kernel.ts'
import type { ServerOptions, ServerReply, ServerRequest, ServerStats } from './protocol.ts'
import type { ChildProcess } from 'node:child_process'

type Request = ServerRequest extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never

/** The server under attack, in a child process (with `--expose-gc`), driven over IPC. */
export class ServerProcess {
  readonly port: number
  readonly #child: ChildProcess
  readonly #waiting = new Map<number, (reply: ServerReply) => void>()
  #next = 1

  private constructor (child: ChildProcess, port: number) {
    this.#child = child
    this.port = port
    child.on('message', (reply: ServerReply) => {
      this.#waiting.get(reply.id)?.(reply)
      this.#waiting.delete(reply.id)
    })
  }

  /**
   * Starts a server and resolves once it listens, on a port no other socket uses: the port is
   * taken at random, and SO_REUSEADDR lets it be one that a stale TIME_WAIT socket of an
   * earlier connection still holds, which the kernel counts would mistake for the server's.
   */
  static async start (options: ServerOptions): Promise<ServerProcess> {
    for (let tries = 1; ; tries++) {
      const { child, port } = await ServerProcess.#spawn(options)
      if (countKernelSockets(port).sockets === 0 || tries === 5) return new ServerProcess(child, port)
      await new Promise(resolve => { child.once('exit', resolve); child.kill() })
    }
  }

  static async #spawn (options: ServerOptions): Promise<{ child: ChildProcess, port: number }> {
    const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [JSON.stringify(options)], {
      execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env['ATTACK_SERVER_ARGS']?.split(' ').filter(Boolean) ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill(); reject(new Error('the server did not start within 20 s')) }, 20_000)
      child.once('message', (reply: ServerReply) => { clearTimeout(timer); resolve(reply.port ?? 0) })
      child.once('exit', code => { clearTimeout(timer); reject(new Error(`the server exited with ${code}`)) })
    })
    return { child, port }
  }

  async request (request: Request): Promise<ServerReply> {
    const id = this.#next++
    return await new Promise<ServerReply>((resolve, reject) => {
      const timer = setTimeout(() => { this.#waiting.delete(id); reject(new Error(`no answer to ${request.type} within 30 s`)) }, 30_000)
      this.#waiting.set(id, reply => { clearTimeout(timer); resolve(reply) })
      this.#child.send({ ...request, id })
    })
  }

  /** The server's process ID. */
  get pid (): number {
    return this.#child.pid ?? 0
  }

  /** The CPU time the server process has used so far, in seconds. */
  cpuSeconds (): number {
    return processCpuSeconds(this.pid)
  }

  async stats (): Promise<ServerStats> {
    const reply = await this.request({ type: 'stats' })
    if (reply.stats === undefined) throw new Error('no stats in the reply')
    return reply.stats
  }

  /** Stops the manager and the process; kills it if it does not exit within 10 s. */
  async stop (): Promise<void> {
    const exited = new Promise<void>(resolve => { this.#child.once('exit', () => { resolve() }) })
    const timer = setTimeout(() => { this.#child.kill('SIGKILL') }, 10_000)
    try {
      await this.request({ type: 'stop' })
    } catch {
      this.#child.kill('SIGKILL')
    }
    await exited
    clearTimeout(timer)
  }
}
