/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence of two string values,
 * ported from Redis 7.0's lcsCommand (the same dynamic-programming table and the same walk back through it, so ties
 * pick the same subsequence and IDX lists the same ranges, last match first). Missing keys count as ''.
 * Cost: O(len1 × len2) time and 4 bytes per cell, refused past proto-max-bulk-len like Redis; it runs on the event
 * loop, as in Redis (where it blocks the server the same way).
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { valueToBuffer } from '../../storage/index.js';
import type { Connection } from '../connection.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, errorText } from '../replies.js';
import { numArg, partitionOfArg } from './strings.js';
import { CMD_READONLY, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_LEN_AND_IDX = errorText(NODE_ERRORS.SYNTAX_ERROR, 'If you want both the length and indexes, please just use IDX.');
const ERR_LCS_MEMORY = errorText(NODE_ERRORS.VALUE_TOO_LARGE, 'Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');

function lcs(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  const va = store.get(p, req.str(1));
  const vb = store.get(partitionOfArg(ctx, req, 2, p), req.str(2));
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < req.argc; j++) {
    const opt = req.str(j).toLowerCase();
    const more = req.argc - 1 - j;
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withMatchLen = true;
    else if (opt === 'minmatchlen' && more > 0) {
      const n = numArg(req, ++j);
      if (n === undefined) return w.error(ERR_NOT_INTEGER);
      minMatchLen = Math.max(0, n);
    } else return w.error(ERR_SYNTAX);
  }
  if (getIdx && getLen) return w.error(ERR_LEN_AND_IDX);
  const a = va === undefined ? Buffer.alloc(0) : valueToBuffer(va);
  const b = vb === undefined ? Buffer.alloc(0) : valueToBuffer(vb);
  const alen = a.length;
  const blen = b.length;
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > ctx.options.maxBulkBytes) return w.error(ERR_LCS_MEMORY);
  const row = blen + 1;
  const dp = new Uint32Array(cells);
  for (let i = 1; i <= alen; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= blen; j++) {
      if (ai === b[j - 1]) dp[i * row + j] = dp[(i - 1) * row + j - 1]! + 1;
      else {
        const l1 = dp[(i - 1) * row + j]!;
        const l2 = dp[i * row + j - 1]!;
        dp[i * row + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const total = dp[alen * row + blen]!;
  if (getLen) return w.integer(total);
  const result = Buffer.alloc(total);
  let idx = total;
  const ranges: number[][] = [];
  let aStart = alen; // alen = no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      result[idx - 1] = a[i - 1]!;
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = dp[(i - 1) * row + j]!;
      const l2 = dp[i * row + j - 1]!;
      if (l1 > l2) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) {
        ranges.push(withMatchLen ? [aStart, aEnd, bStart, bEnd, matchLen] : [aStart, aEnd, bStart, bEnd]);
      }
      aStart = alen;
    }
  }
  if (!getIdx) return w.bulk(result);
  w.map(2);
  w.bulk('matches');
  w.array(ranges.length);
  for (const r of ranges) {
    w.array(r.length === 5 ? 3 : 2);
    w.array(2);
    w.integer(r[0]!);
    w.integer(r[1]!);
    w.array(2);
    w.integer(r[2]!);
    w.integer(r[3]!);
    if (r.length === 5) w.integer(r[4]!);
  }
  w.bulk('len');
  w.integer(total);
}

export function registerLcsCommands(t: CommandTable): void {
  t.add(cmd('lcs', -3, CMD_READONLY, [1, 2, 1], lcs, 'Longest common subsequence of two strings (LEN, IDX, MINMATCHLEN, WITHMATCHLEN)'));
}
