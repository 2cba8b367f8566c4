/** A numeric node setting: empty means the default; anything else must be a number that passes `check`. */
export function numberSetting(value: string | number | undefined, fallback: number, name: string, check: (n: number) => boolean): number {
  if (value === undefined || value === null || String(value).trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${name} "${value}" is not valid`);
  return n;
}
