/** Turns zod issues into one line per problem: `cameras[1].url: expected rtsp://, ...`. */
import type { z } from 'zod';

/** `['cameras', 1, 'url']` → `cameras[1].url`; the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** One line per problem; unknown keys get one line each, at their own path. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: unknown option`);
    } else if (issue.code === 'invalid_key') {
      // A record's key: say what the key must be, not only that it is wrong.
      lines.push(`${formatPath(issue.path)}: not a valid key: ${issue.issues.map((i) => i.message).join('; ')}`);
    } else {
      lines.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}
