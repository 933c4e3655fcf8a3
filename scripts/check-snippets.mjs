#!/usr/bin/env node
// Type-checks the code users read, so that it cannot rot: every ```ts fence in an
// `@example` block of packages/*/src/**/*.ts, and every ```ts fence in packages/*/README.md
// and the root README.md.
//
// Each snippet becomes a module of its own under examples/.snippets/ (the examples package
// depends on every @cm package, so `import … from '@cm/…'` resolves to the built packages)
// and the lot is checked by tsc with the repository's strict settings. A fence marked
// ```ts nocheck is skipped (for fragments that cannot stand alone; use sparingly).
//
// Usage: node scripts/check-snippets.mjs
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const out = join(root, 'examples', '.snippets')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

/** Every file under dir whose name passes the filter. */
function walk (dir, filter) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path, filter) : filter(name) ? [path] : []
  })
}

/** ```ts fences in Markdown text, with the line each starts on. */
function fences (text, lineOffset = 0) {
  const found = []
  const lines = text.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const match = /^\s*```(ts|typescript)(\s+nocheck)?\s*$/.exec(lines[index])
    if (match === null) continue
    const start = index + 1
    let end = start
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++
    if (match[2] === undefined) {
      found.push({ line: lineOffset + start + 1, code: lines.slice(start, end).join('\n') })
    }
    index = end
  }
  return found
}

/** ```ts fences inside `@example` blocks of TSDoc comments. */
function exampleFences (source) {
  const found = []
  const commentPattern = /\/\*\*[\s\S]*?\*\//g
  for (const match of source.matchAll(commentPattern)) {
    const startLine = source.slice(0, match.index).split('\n').length - 1
    const body = match[0].split('\n').map(line => line.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/$/, ''))
    // Only the parts after an @example tag count.
    let inExample = false
    const kept = body.map(line => {
      if (/^@\w+/.test(line)) inExample = line.startsWith('@example')
      return inExample ? line : ''
    })
    found.push(...fences(kept.join('\n'), startLine))
  }
  return found
}

const sources = []
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg)
  for (const file of walk(join(dir, 'src'), name => name.endsWith('.ts') && !name.endsWith('.d.ts'))) {
    for (const fence of exampleFences(readFileSync(file, 'utf8'))) sources.push({ file, ...fence })
  }
  const readme = join(dir, 'README.md')
  if (existsSync(readme)) {
    for (const fence of fences(readFileSync(readme, 'utf8'))) sources.push({ file: readme, ...fence })
  }
}
for (const fence of fences(readFileSync(join(root, 'README.md'), 'utf8'))) sources.push({ file: join(root, 'README.md'), ...fence })

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const origin = new Map()
sources.forEach((snippet, index) => {
  const name = `snippet-${String(index).padStart(4, '0')}.ts`
  origin.set(name, snippet)
  // `export {}` keeps every snippet a module of its own, with its own scope.
  writeFileSync(join(out, name), `${snippet.code}\n\nexport {}\n`)
})
writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: {
    noEmit: true,
    composite: false,
    incremental: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    rootDir: '.',
    // Snippets show a call and its result; values they name but do not use are fine.
    noUnusedLocals: false,
    noUnusedParameters: false
  },
  include: ['*.ts']
}, null, 2))

try {
  execFileSync(process.execPath, [tsc, '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', stdio: 'pipe' })
} catch (error) {
  const report = String(error.stdout ?? '') + String(error.stderr ?? '')
  const mapped = report.split('\n').filter(Boolean).map(line => {
    const match = /^(snippet-\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line.replace(/^.*\.snippets\//, ''))
    if (match === null) return line
    const snippet = origin.get(match[1])
    return `${relative(root, snippet.file)}:${snippet.line + Number(match[2]) - 1}: ${match[4]}`
  })
  console.error(`Snippets that do not type-check:\n${mapped.join('\n')}`)
  process.exit(1)
}
console.log(`${sources.length} snippets type-check (from @example blocks and READMEs).`)
