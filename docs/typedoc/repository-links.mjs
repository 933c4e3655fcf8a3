// A TypeDoc plugin for the API site: a README's relative link to a file that is not part of
// the site (examples/README.md, bench/RESULTS.md, LICENSE, a source file) would be copied
// into media/ and served raw. This points it at the file in the repository instead, where
// it is rendered, so that READMEs keep the relative links GitHub and npm show. The
// repository is the one `sourceLinkTemplate` names; links to documented packages and
// reflections are left to TypeDoc.
import { relative } from 'node:path'
import { RendererEvent } from 'typedoc'

/** @param {import('typedoc').Application} app */
export function load (app) {
  app.renderer.on(RendererEvent.BEGIN, event => {
    const template = app.options.getValue('sourceLinkTemplate')
    const base = template.slice(0, template.indexOf('{path}'))
    if (base === '') throw new Error('repository-links: sourceLinkTemplate has no {path}')
    const project = event.project
    const rewrite = parts => {
      if (!Array.isArray(parts)) return
      for (const [index, part] of parts.entries()) {
        if (part.kind !== 'relative-link' || typeof part.target !== 'number') continue
        const file = project.files.resolve(part.target, project)
        if (typeof file !== 'string') continue // a page of the site
        const anchor = part.targetAnchor === undefined ? '' : `#${part.targetAnchor}`
        parts[index] = { kind: 'text', text: `${base}${relative(process.cwd(), file)}${anchor}` }
      }
    }
    for (const reflection of [project, ...Object.values(project.reflections)]) {
      rewrite(reflection.readme)
      rewrite(reflection.content)
      rewrite(reflection.comment?.summary)
      for (const tag of reflection.comment?.blockTags ?? []) rewrite(tag.content)
    }
  })
}
