import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/diagnostic.js';
import { readCsv } from '../../src/formats/csv/read-csv.js';

// Longer than V8's longest string (2^29 - 24 characters): a reader that held it whole would fail.
describe('a 600 MiB users.csv', () => {
  it('streams through the CSV reader in bounded memory, with exact line numbers', async () => {
    const target = 600 * 1024 ** 2;
    const row = (i: number) =>
      `u${i},,,true,s1,student,user${i},{SIS:${i}},Given,Family,,,user${i}@students.example,,,,03,${'x'.repeat(900)}\n`;
    let produced = 0;
    function* chunks() {
      yield Buffer.from(
        'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n',
      );
      let i = 0;
      while (produced < target) {
        let chunk = '';
        for (let k = 0; k < 256; k++) chunk += row(i++);
        produced += chunk.length;
        yield Buffer.from(chunk);
      }
    }
    const diagnostics = new Diagnostics();
    let rows = 0;
    let lastLine = 0;
    let peakHeap = 0;
    const result = await readCsv(
      Readable.from(chunks()),
      'users.csv',
      (cells, line) => {
        rows++;
        lastLine = line;
        if (cells.length !== 18) throw new Error(`row ${line} has ${cells.length} cells`);
        if ((rows & 0xffff) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      },
      diagnostics,
    );
    expect(produced).toBeGreaterThanOrEqual(target);
    expect(result.rows).toBe(rows);
    expect(lastLine).toBe(rows);
    expect(diagnostics.list).toEqual([]);
    // Holding the file would need more than 600 MiB; streaming stays far below.
    expect(peakHeap).toBeLessThan(256 * 1024 ** 2);
  }, 180_000);
});
