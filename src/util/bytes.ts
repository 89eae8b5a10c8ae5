/** Sizes in words people read: 12 345 678 → "12 MB", 315 392 → "315 kB" (SI units, as `facegate models` and file managers show them). */
export function humanBytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  if (i === 0) return n === 1 ? '1 byte' : `${n} bytes`;
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}
