/**
 * An optional per-app build pattern (`apps.<app>.buildPattern`, a regular expression the whole
 * build id must match). Builds only move forward, so one absurd build id (`99999999999999`) that
 * became a stage's current build would make every later build "older" and freeze the stage; with
 * a pattern, such a build is refused at every front (upload, pipeline, CLI) before it deploys.
 */

/** The pattern compiled to match the whole build id; throws SyntaxError for an invalid one. */
export function compileBuildPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** Why the build id does not fit the app's pattern, or undefined when it does (or there is none). */
export function checkBuildPattern(app: { name: string; buildPattern?: string }, build: string): string | undefined {
  if (app.buildPattern === undefined) return undefined;
  if (compileBuildPattern(app.buildPattern).test(build)) return undefined;
  return `build id '${build}' does not match apps.${app.name}.buildPattern /${app.buildPattern}/; builds of ${app.name} must, so an id like this cannot become a stage's current build and hold back every later one. Give the build an id of that form.`;
}
