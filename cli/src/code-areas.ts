import type { BuildEvent } from '@drydock/core';
import { noteCodeAreas } from '@drydock/core/boot';

/**
 * Notes the kind of work a build event shows (an image pulled, a RUN or COPY step executed, a step
 * taken from the cache): the code cache a build keeps is written again when a run does a kind of
 * work the run that wrote it did not (core/src/boot.ts).
 */
export function noteEventArea(event: BuildEvent): void {
  if (event.type === 'pull') noteCodeAreas('pull');
  else if (event.type === 'step' && event.state === 'cached') noteCodeAreas('cached');
  else if (event.type === 'step' && event.state === 'done') noteCodeAreas(`step:${event.text.split(' ')[0]}`);
}
