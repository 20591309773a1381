import { checkHost, withLocations } from '@drydock/core';
import { openProject, type Command } from '../context.js';

/** `drydock check`: load, compile and check this machine; `ok`, or every problem and exit 1. */
export const check: Command = async (ctx) => {
  const project = await openProject(ctx);
  const found = await checkHost({
    graph: project.graph,
    configDir: project.dir,
    secrets: project.config.secrets ?? {},
    env: ctx.env,
  });
  const problems = await withLocations(found, project.file);
  if (problems.length > 0) ctx.out.diagnostics(problems);
  if (problems.some((d) => d.severity === 'error')) return 1;
  ctx.out.ok();
  return 0;
};
