#!/usr/bin/env node
// Release rehearsal on a real registry: proves that a release installs the way the README
// says, one package at a time, with nothing added by hand.
//
// 1. Starts Verdaccio 6.8 (it runs on Node 20; 6.10 needs Node 22) on 127.0.0.1, on a free
//    port, with its config and storage in a temporary folder and no uplink: @cm packages
//    can only come from what this script publishes.
// 2. Copies the working tree (the files git tracks or would track, and the packages' dist
//    folders when all are built) to a scratch folder, versions it with changesets
//    (`changeset version`: the first release is 0.1.0), and publishes every public package
//    to Verdaccio with `pnpm publish -r`.
// 3. In empty projects whose .npmrc sends the @cm scope to Verdaccio (everything else comes
//    from the public registry): `npm install @cm/gate` alone, `npm install @cm/rate-limit`
//    alone, `npm install @cm/manager` (its @cm dependencies come from the registry), and
//    `@cm/libp2p` with its peers as its README says, under Node 22. Each is checked (its
//    LICENSE, no @cm package it does not depend on), imported from ESM JavaScript and
//    from TypeScript, and called (scripts/pack-smoke/<name>.mjs); the js-libp2p node of the
//    libp2p one also connects to another over TCP (scripts/rehearsal/libp2p-dial.mjs).
//
// Verdaccio is stopped and the temporary folder removed on every path (success, failure,
// Ctrl-C), and the whole run is bounded in time (CM_REHEARSAL_TIMEOUT_S, default 600).
// Verdaccio and Node 22 (when the running Node is older) are installed once into a cache
// folder and reused (CM_REHEARSAL_CACHE, default <tmp>/cm-release-rehearsal); CM_NODE22_BIN
// names a folder holding a Node 22 binary to use instead.
//
// Usage: pnpm release:rehearse   (builds the packages, then runs this script)
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { checkInstall, smokeTest, typesNodeVersion } from './smoke-test.mjs'

const VERDACCIO = '6.8.0'
const FIRST_RELEASE = '0.1.0'
const root = resolve(import.meta.dirname, '..')
const started = Date.now()
const limitMs = Number(process.env.CM_REHEARSAL_TIMEOUT_S ?? 600) * 1000
const deadline = started + limitMs
const cache = process.env.CM_REHEARSAL_CACHE ?? join(tmpdir(), 'cm-release-rehearsal')
const work = mkdtempSync(join(tmpdir(), 'cm-release-'))
/** @type {import('node:child_process').ChildProcess | undefined} */
let verdaccio
/** The commands running now (each in a process group of its own, so it can be ended whole). */
const running = new Set()

/** Kills a child's whole process group (it was spawned detached, as its leader). */
function killGroup (child) {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // The group has ended already.
    }
  }
}

// Cleaning up on every path: a normal end, a thrown error, a signal, the time limit.
function cleanUp () {
  for (const child of running) killGroup(child)
  if (verdaccio !== undefined) killGroup(verdaccio)
  rmSync(work, { recursive: true, force: true })
}
process.on('exit', cleanUp)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nrelease rehearsal stopped by ${signal}`)
    process.exit(130)
  })
}
setTimeout(() => {
  console.error(`\nrelease rehearsal FAILED: over its time limit of ${limitMs / 1000} s`)
  process.exit(1)
}, limitMs).unref()

/**
 * Runs a command, shown, in a process group of its own (so that a signal or the time limit
 * ends it with everything it started), bounded by what is left of the time limit.
 */
async function run (command, args, options = {}) {
  const left = deadline - Date.now()
  if (left <= 0) throw new Error('over the time limit')
  console.log(`$ ${command} ${args.join(' ')}${options.cwd === undefined ? '' : `   (in ${options.cwd})`}`)
  const child = spawn(command, args, { stdio: 'inherit', detached: true, ...options })
  running.add(child)
  const timer = setTimeout(() => { killGroup(child) }, left)
  try {
    const [code, signal] = await new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (exitCode, signalCode) => { resolve([exitCode, signalCode]) })
    })
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)
  } finally {
    clearTimeout(timer)
    running.delete(child)
  }
}

const step = title => { console.log(`\n=== ${title} (${Math.round((Date.now() - started) / 1000)} s) ===`) }

/** Installs `spec` into `prefix` with npm, unless `marker` exists there already. */
async function cached (prefix, spec, marker) {
  if (!existsSync(join(prefix, marker))) {
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', prefix, spec])
  }
  return prefix
}

/** A free TCP port on 127.0.0.1. */
async function freePort () {
  const server = createServer()
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

/**
 * fetch(), once more when the connection it reused had been closed by Verdaccio meanwhile
 * (its keep-alive timeout is shorter than the pauses between our requests).
 */
async function request (url, init) {
  try {
    return await fetch(url, init)
  } catch {
    return await fetch(url, init)
  }
}

async function untilUp (url) {
  const until = Math.min(deadline, Date.now() + 60_000)
  while (Date.now() < until) {
    if (verdaccio.exitCode !== null) throw new Error(`Verdaccio exited with ${verdaccio.exitCode}:\n${readFileSync(join(work, 'verdaccio.log'), 'utf8')}`)
    try {
      if ((await request(`${url}-/ping`)).ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`Verdaccio did not answer at ${url} in time`)
}

try {
  step('tools')
  const verdaccioBin = join(await cached(join(cache, `verdaccio-${VERDACCIO}`), `verdaccio@${VERDACCIO}`, 'node_modules/verdaccio/package.json'), 'node_modules', 'verdaccio', 'bin', 'verdaccio')
  const node22Bin = Number(process.versions.node.split('.')[0]) >= 22
    ? dirname(process.execPath)
    : process.env.CM_NODE22_BIN ?? join(await cached(join(cache, 'node22'), 'node@22', 'node_modules/node/package.json'), 'node_modules', 'node', 'bin')
  await run(join(node22Bin, 'node'), ['--version'])

  step(`Verdaccio ${VERDACCIO} on 127.0.0.1, storage in ${work}`)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}/`
  mkdirSync(join(work, 'storage'))
  writeFileSync(join(work, 'config.yaml'), [
    `storage: ${join(work, 'storage')}`,
    'auth:',
    '  htpasswd:',
    `    file: ${join(work, 'htpasswd')}`,
    'uplinks: {}',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    'publish:',
    '  allow_offline: true',
    'log: { type: stdout, format: pretty, level: warn }',
    ''
  ].join('\n'))
  const log = openSync(join(work, 'verdaccio.log'), 'a')
  verdaccio = spawn(process.execPath, [verdaccioBin, '--config', join(work, 'config.yaml'), '--listen', `127.0.0.1:${port}`], {
    detached: true, // its own process group, killed as one by cleanUp()
    stdio: ['ignore', log, log]
  })
  closeSync(log)
  await untilUp(url)
  const user = await request(`${url}-/user/org.couchdb.user:rehearsal`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'rehearsal', password: `rehearsal-${process.pid}-${Date.now()}` })
  })
  const { token } = await user.json()
  if (typeof token !== 'string') throw new Error(`Verdaccio gave no token (HTTP ${user.status})`)
  console.log(`Verdaccio answers at ${url}`)
  const scopeToRegistry = `@cm:registry=${url}\n`

  step('a scratch copy of the working tree, versioned with changesets')
  const scratch = join(work, 'repo')
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
  for (const file of files) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(scratch, file), { recursive: true })
  }
  await run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], { cwd: scratch })
  await run('pnpm', ['exec', 'changeset', 'version'], { cwd: scratch })
  const released = readdirSync(join(scratch, 'packages'))
    .map(dir => JSON.parse(readFileSync(join(scratch, 'packages', dir, 'package.json'), 'utf8')))
    .filter(manifest => manifest.private !== true)
  const wrong = released.filter(manifest => manifest.version !== FIRST_RELEASE)
  if (wrong.length > 0) throw new Error(`not at ${FIRST_RELEASE} after changeset version: ${wrong.map(manifest => `${manifest.name}@${manifest.version}`).join(', ')}`)
  console.log(`${released.map(manifest => manifest.name).join(', ')}: ${FIRST_RELEASE}`)
  // The packages as built in the working tree (`pnpm release:rehearse` builds them first, as
  // `pnpm release` does before it publishes); built in the scratch copy when they are not.
  const dirs = readdirSync(join(scratch, 'packages'))
  if (dirs.every(dir => existsSync(join(root, 'packages', dir, 'dist')))) {
    for (const dir of dirs) cpSync(join(root, 'packages', dir, 'dist'), join(scratch, 'packages', dir, 'dist'), { recursive: true })
    console.log('the packages\' dist folders, as built in the working tree')
  } else {
    await run('pnpm', ['--recursive', '--filter=./packages/*', '--reporter=append-only', 'run', 'build'], { cwd: scratch })
  }

  step('pnpm publish -r to Verdaccio')
  writeFileSync(join(scratch, '.npmrc'), `${scopeToRegistry}//127.0.0.1:${port}/:_authToken=${token}\n`)
  // The one difference from a real release: no provenance statement, which is signed with the
  // identity of a CI run (GitHub's OIDC token) that a rehearsal does not have. The manifests'
  // publishConfig asks for one, and wins over the command line, so it is dropped here.
  for (const dir of readdirSync(join(scratch, 'packages'))) {
    const path = join(scratch, 'packages', dir, 'package.json')
    const manifest = JSON.parse(readFileSync(path, 'utf8'))
    if (manifest.publishConfig?.provenance !== undefined) {
      delete manifest.publishConfig.provenance
      writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
    }
  }
  await run('pnpm', ['publish', '-r', '--no-git-checks', '--registry', url], { cwd: scratch })
  for (const manifest of released) {
    const answer = await request(`${url}${manifest.name.replace('/', '%2f')}`)
    const versions = answer.ok ? Object.keys((await answer.json()).versions ?? {}) : []
    if (!versions.includes(FIRST_RELEASE)) throw new Error(`${manifest.name}@${FIRST_RELEASE} is not on the registry`)
  }

  /** The @cm packages a released package depends on, transitively. */
  const dependenciesOf = (name, seen = new Set()) => {
    for (const dependency of Object.keys(released.find(manifest => manifest.name === name)?.dependencies ?? {})) {
      if (dependency.startsWith('@cm/') && !seen.has(dependency)) {
        seen.add(dependency)
        dependenciesOf(dependency, seen)
      }
    }
    return seen
  }

  /** An empty project whose .npmrc sends @cm to Verdaccio; `installs` are the README's commands. */
  const consumer = async (dir, name, installs, nodeBin) => {
    step(`${installs.map(args => `npm install ${args.join(' ')}`).join(' && ')}, in an empty project${nodeBin === undefined ? '' : ', under Node 22'}`)
    const project = join(work, 'consumers', dir)
    mkdirSync(project, { recursive: true })
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `rehearsal-${dir}`, private: true, type: 'module' }, null, 2))
    writeFileSync(join(project, '.npmrc'), scopeToRegistry)
    const env = nodeBin === undefined ? process.env : { ...process.env, PATH: `${nodeBin}${delimiter}${process.env.PATH ?? ''}` }
    for (const args of installs) {
      await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...args], { cwd: project, env })
    }
    const manifest = released.find(candidate => candidate.name === name)
    checkInstall(project, manifest, dependenciesOf(name))
    const version = JSON.parse(readFileSync(join(project, 'node_modules', ...name.split('/'), 'package.json'), 'utf8')).version
    if (version !== FIRST_RELEASE) throw new Error(`installed ${name}@${version}, not ${FIRST_RELEASE}`)
    // For the TypeScript half of the smoke test: the Node types, as a TypeScript user has them.
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--save-dev', `@types/node@${typesNodeVersion}`], { cwd: project, env })
    await smokeTest(dir, project, run, nodeBin === undefined ? process.execPath : join(nodeBin, 'node'))
    return project
  }

  await consumer('gate', '@cm/gate', [['@cm/gate']])
  await consumer('rate-limit', '@cm/rate-limit', [['@cm/rate-limit']])
  await consumer('manager', '@cm/manager', [['@cm/manager']])
  const libp2p = await consumer('libp2p', '@cm/libp2p', [['@cm/libp2p', 'libp2p', '@libp2p/interface'], ['@libp2p/tcp', '@libp2p/noise', '@libp2p/yamux']], node22Bin)
  cpSync(join(root, 'scripts', 'rehearsal', 'libp2p-dial.mjs'), join(libp2p, 'dial.mjs'))
  await run(join(node22Bin, 'node'), ['dial.mjs'], { cwd: libp2p })

  console.log(`\nrelease rehearsal passed in ${Math.round((Date.now() - started) / 1000)} s: ${released.length} packages published at ${FIRST_RELEASE}, four installed from the registry as the READMEs say`)
} catch (error) {
  console.error(`\nrelease rehearsal FAILED after ${Math.round((Date.now() - started) / 1000)} s: ${error.message}${error.cause === undefined ? '' : ` (${error.cause})`}`)
  const log = join(work, 'verdaccio.log')
  if (existsSync(log)) console.error(`Verdaccio's log, last lines:\n${readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')}`)
  process.exitCode = 1
} finally {
  cleanUp()
}
