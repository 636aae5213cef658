/**
 * The data of a BullMQ run job. It carries the trigger message and who the run is for; never the
 * adapter's command or environment, which come only from the worker's own config.
 */
import { z } from 'zod';
import { RunSubject } from '../model/run.ts';
import { TriggerMessage } from '../model/trigger-message.ts';

export const RunJobData = z
  .object({
    subject: RunSubject,
    trigger: TriggerMessage,
  })
  .strict();
export type RunJobData = z.infer<typeof RunJobData>;
