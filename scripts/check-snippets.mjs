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
// A README that tells users which compiler options to use does so in a ```json tsconfig
// fence; the snippets of that README (and of its package's `@example` blocks) are then
// checked a second time with exactly those options, as a user would compile them (only
// `noEmit` is added), so that the advice cannot rot either. The root README's fence covers
// the packages whose README has none.
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

/** The compiler options of the ```json tsconfig fence in Markdown text, if there is one. */
function tsconfigFence (text, file) {
  const match = /^```json tsconfig\s*\n([\s\S]*?)^```\s*$/m.exec(text)
  if (match === null) return undefined
  const options = JSON.parse(match[1]).compilerOptions
  if (typeof options !== 'object' || options === null) throw new Error(`${file}: the tsconfig fence has no compilerOptions`)
  return options
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
/** The compiler options a README gives its users, by README path (and its snippets' group). */
const advised = new Map()
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg)
  const readme = join(dir, 'README.md')
  const readmeText = existsSync(readme) ? readFileSync(readme, 'utf8') : ''
  const options = tsconfigFence(readmeText, readme)
  if (options !== undefined) advised.set(readme, options)
  const group = options === undefined ? undefined : readme
  for (const file of walk(join(dir, 'src'), name => name.endsWith('.ts') && !name.endsWith('.d.ts'))) {
    for (const fence of exampleFences(readFileSync(file, 'utf8'))) sources.push({ file, group, ...fence })
  }
  for (const fence of fences(readmeText)) sources.push({ file: readme, group, ...fence })
}
const rootReadme = join(root, 'README.md')
const rootText = readFileSync(rootReadme, 'utf8')
const rootOptions = tsconfigFence(rootText, rootReadme)
if (rootOptions !== undefined) advised.set(rootReadme, rootOptions)
for (const fence of fences(rootText)) sources.push({ file: rootReadme, ...fence })
// The root README's advice covers every snippet whose package README gives none of its own.
for (const source of sources) {
  if (source.group === undefined && rootOptions !== undefined) source.group = rootReadme
}

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

/** Runs tsc on a project; returns its report mapped back to the documents, or '' when it passes. */
function check (project) {
  try {
    execFileSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { encoding: 'utf8', stdio: 'pipe' })
    return ''
  } catch (error) {
    const report = String(error.stdout ?? '') + String(error.stderr ?? '')
    return report.split('\n').filter(Boolean).map(line => {
      const match = /^(?:\.\.\/)?(snippet-\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line.replace(/^.*\.snippets\//, ''))
      if (match === null) return line
      const snippet = origin.get(match[1])
      return `${relative(root, snippet.file)}:${snippet.line + Number(match[2]) - 1}: ${match[4]}`
    }).join('\n')
  }
}

const failures = []
const strict = check(join(out, 'tsconfig.json'))
if (strict !== '') failures.push(`with the repository's settings:\n${strict}`)
// Each README's own advice, verbatim (plus noEmit), over its snippets.
for (const [readme, compilerOptions] of advised) {
  const names = [...origin].filter(([, snippet]) => snippet.group === readme).map(([name]) => `../${name}`)
  const dir = join(out, `advised-${relative(root, readme).replace(/[/\\.]/g, '-')}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true }, files: names }, null, 2))
  const report = check(join(dir, 'tsconfig.json'))
  if (report !== '') failures.push(`with the compiler options ${relative(root, readme)} gives:\n${report}`)
}
if (failures.length > 0) {
  console.error(`Snippets that do not type-check ${failures.join('\n')}`)
  process.exit(1)
}
console.log(`${sources.length} snippets type-check (from @example blocks and READMEs), ${[...origin.values()].filter(snippet => snippet.group !== undefined).length} of them also with the compiler options their README gives (${[...advised.keys()].map(readme => relative(root, readme)).join(', ')}).`)
