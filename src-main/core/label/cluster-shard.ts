// --shard auto: the share of a folder a task of a job array labels, read from what the job runner
// sets. A Kubernetes Indexed Job sets JOB_COMPLETION_INDEX (0 to completions - 1) but not the count,
// so the count is given (auto/N, or FASHION_DETECT_SHARD_COUNT). A Slurm job array sets the task's
// id and the count; ids start at SLURM_ARRAY_TASK_MIN (often 1) and step by SLURM_ARRAY_TASK_STEP.
import { UsageError } from '../base/errors.js';
import { parseShard, type Shard } from './shard.js';

export const SHARD_COUNT_VARIABLE = 'FASHION_DETECT_SHARD_COUNT';

function whole(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--shard auto: ${name}="${text}" is not a whole number`);
  return Number(text.trim());
}

function fromSlurm(env: NodeJS.ProcessEnv, given: number | undefined): Shard {
  const id = whole(env, 'SLURM_ARRAY_TASK_ID')!;
  const count = whole(env, 'SLURM_ARRAY_TASK_COUNT');
  const min = whole(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const max = whole(env, 'SLURM_ARRAY_TASK_MAX');
  const step = whole(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  if (count === undefined) throw new UsageError('--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not');
  if (step < 1 || id < min || (id - min) % step !== 0) throw new UsageError(`--shard auto: task ${id} is not in the array ${min}-${max ?? '?'}:${step}`);
  // An array given as a list (--array=1,4,9) is not a range: its tasks cannot be numbered from the variables.
  if (max !== undefined && (max - min) / step + 1 !== count) {
    throw new UsageError(`--shard auto: the Slurm array ${min}-${max}:${step} has ${count} tasks, so it is not a plain range; give --shard K/N`);
  }
  if (given !== undefined && given !== count) throw new UsageError(`--shard auto/${given}: the Slurm array has ${count} tasks`);
  return { index: (id - min) / step + 1, count };
}

function fromKubernetes(env: NodeJS.ProcessEnv, given: number | undefined): Shard {
  const index = whole(env, 'JOB_COMPLETION_INDEX')!;
  const count = given ?? whole(env, SHARD_COUNT_VARIABLE);
  if (count === undefined) {
    throw new UsageError(`--shard auto: a Kubernetes Indexed Job does not tell the number of completions; give --shard auto/N or set ${SHARD_COUNT_VARIABLE}`);
  }
  if (count < 1 || index >= count) throw new UsageError(`--shard auto: JOB_COMPLETION_INDEX ${index} is not below the count ${count}`);
  return { index: index + 1, count };
}

/**
 * The shard of `--shard K/N`, `--shard auto` or `--shard auto/N`. With auto the index comes from a Slurm
 * job array or a Kubernetes Indexed Job; with auto/N the count is N (checked against Slurm's).
 */
export function resolveShard(text: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const auto = /^auto(?:\/(\d+))?$/.exec(text.trim());
  if (!auto) return parseShard(text);
  const given = auto[1] === undefined ? undefined : Number(auto[1]);
  if (given !== undefined && given < 1) throw new UsageError('--shard auto/N: N must be 1 or more');
  const slurm = env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== '';
  const kubernetes = env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== '';
  if (slurm && kubernetes) throw new UsageError('--shard auto: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; give --shard K/N');
  if (slurm) return fromSlurm(env, given);
  if (kubernetes) return fromKubernetes(env, given);
  throw new UsageError('--shard auto: no job index found; it is set by a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array (SLURM_ARRAY_TASK_ID)');
}
