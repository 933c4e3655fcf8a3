// A TypeDoc plugin for the API site: modules named by package. A package with one entry
// point is one module, named after the package; @cm/manager has three (`.`, `./tcp`,
// `./prometheus`), which TypeDoc would name by file (`index`, `tcp`, `prometheus`). This
// merges the `index` module into the package's own page (its documentation included), and
// names the others by the specifier they are imported with (`@cm/manager/tcp`).
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { Comment, CommentTag, Converter, ReflectionKind } from 'typedoc'

/** The name in the package.json nearest above a file. */
function packageNameOf (file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name
  }
  return undefined
}

/** @param {import('typedoc').Application} app */
export function load (app) {
  // Before TypeDoc's own @mergeModuleWith handling (priority 10000), which does the merge.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, context => {
    const project = context.project
    const modules = (project.children ?? []).filter(child => child.kindOf(ReflectionKind.Module))
    const fileOf = module => module.sources?.[0]?.fullFileName ?? ''
    const main = modules.find(module => basename(fileOf(module)) === 'index.ts')
    const name = main === undefined ? undefined : packageNameOf(fileOf(main))
    if (main === undefined || name === undefined) return
    for (const module of modules) {
      if (module !== main) module.name = `${name}/${basename(fileOf(module), extname(fileOf(module)))}`
    }
    project.comment ??= main.comment
    main.comment = new Comment([], [new CommentTag('@mergeModuleWith', [{ kind: 'text', text: '<project>' }])])
  }, 20_000)
}
