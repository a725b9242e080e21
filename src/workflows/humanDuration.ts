/** "30 days", "2 hours", "1.5 seconds": durations in reasons a person reads. */
export function humanDuration(ms: number): string {
  for (const [unit, size] of [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms / size === 1 ? '' : 's'}`;
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} seconds` : `${ms} ms`;
}
