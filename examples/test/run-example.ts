import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What an example printed, and its final `RESULT {json}` line parsed. */
export interface ExampleRun {
  readonly output: string
  readonly result: Record<string, unknown>
}

/**
 * Runs an example as a user would (its own Node process, through tsx), expects it to exit
 * 0, and parses the `RESULT {json}` line it prints last.
 */
export async function runExample (script: string): Promise<ExampleRun> {
  const path = fileURLToPath(new URL(`../src/${script}`, import.meta.url))
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', path], { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`${script} failed (${error.message}):\n${stdout}\n${stderr}`))
      } else {
        resolve(stdout)
      }
    })
  })
  const line = output.split('\n').find(each => each.startsWith('RESULT '))
  if (line === undefined) throw new Error(`${script} printed no RESULT line:\n${output}`)
  return { output, result: JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown> }
}
