// The evaluation scripts' command lines (eval/documents.ts, faces.ts, liveness.ts, run.ts).
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../eval/support';

describe('parseCliArgs', () => {
  it('takes a lone first argument as the data directory (no option needed)', () => {
    const a = parseCliArgs(['/data/documents'], ['json', 'limit']);
    expect(a.positional).toEqual(['/data/documents']);
    expect(a.values).toEqual({});
  });

  it('keeps option values out of the positionals, whatever the order', () => {
    for (const args of [
      ['/data/documents', '--json', 'out.json', '--limit', '5'],
      ['--json', 'out.json', '/data/documents', '--limit', '5'],
      ['--limit', '5', '--json', 'out.json', '/data/documents'],
    ]) {
      const a = parseCliArgs(args, ['json', 'limit']);
      expect(a.positional, args.join(' ')).toEqual(['/data/documents']);
      expect(a.values, args.join(' ')).toEqual({ json: 'out.json', limit: '5' });
    }
  });

  it('no positional: the script falls back to its default directory', () => {
    expect(parseCliArgs(['--png', 'roc.png'], ['png']).positional).toEqual([]);
    expect(parseCliArgs([], ['png']).positional).toEqual([]);
  });

  it('options without a value are flags and take no argument with them', () => {
    const a = parseCliArgs(['--rgb', '/data', '--png', 'roc.png'], ['png']);
    expect([...a.flags]).toEqual(['rgb']);
    expect(a.positional).toEqual(['/data']);
    expect(a.values.png).toBe('roc.png');
  });

  it('eval/run.ts: --skip and --jobs', () => {
    const a = parseCliArgs(['--skip', 'faces,liveness', '--jobs', '3'], ['skip', 'jobs']);
    expect(a.values).toEqual({ skip: 'faces,liveness', jobs: '3' });
    expect(parseCliArgs([], ['skip', 'jobs']).values.skip).toBeUndefined();
  });
});
