import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeRedactor, StreamRedactor } from '../../src/worker/redact.ts';

const SECRET = 'p@ss word/42-Zq';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Feeds `chunks` through one stream redactor and returns everything it released. */
function stream(secrets: string[], chunks: string[]): string {
  const r = new StreamRedactor(secrets);
  return chunks.map((c) => r.push(c)).join('') + r.end();
}

/** Every way of cutting `text` into 2 pieces, then into 3 pieces. */
function* splits(text: string): Generator<string[]> {
  for (let i = 0; i <= text.length; i++) yield [text.slice(0, i), text.slice(i)];
  for (let i = 0; i <= text.length; i += 3) {
    for (let j = i; j <= text.length; j += 2) yield [text.slice(0, i), text.slice(i, j), text.slice(j)];
  }
}

describe('makeRedactor', () => {
  test('a secret, its base64 and its URL-encoded form are replaced by ***', () => {
    const r = makeRedactor([SECRET]);
    const log = `token=${SECRET}\nauth: Basic ${b64(SECRET)}\nurl: https://x/?t=${encodeURIComponent(SECRET)}\n`;
    const out = r(log);
    assert.equal(out, 'token=***\nauth: Basic ***\nurl: https://x/?t=***\n');
  });

  test('base64 without padding and in the URL alphabet is replaced', () => {
    const secret = 'k>?~k>?~xy'; // base64 has + and / and padding
    const r = makeRedactor([secret]);
    const std = b64(secret);
    assert.match(std, /[+/].*=$/);
    assert.equal(r(`a ${std.replace(/=+$/, '')} b`), 'a *** b');
    assert.equal(r(`a ${Buffer.from(secret).toString('base64url')} b`), 'a *** b');
  });

  test('the secret is found inside longer base64 text at every byte offset', () => {
    const r = makeRedactor([SECRET]);
    for (const prefix of ['', 'u', 'us', 'user:', 'user:x']) {
      const text = b64(`${prefix}${SECRET}@host and more bytes`);
      const out = r(text);
      assert.ok(out.includes('***'), `prefix ${JSON.stringify(prefix)}: ${out}`);
      // What is left around the mask is at most the few characters shared with the neighbours.
      assert.ok(out.length <= text.length - b64(SECRET).length + 3 + 4, out);
    }
  });

  test('short values and text without secrets are left alone', () => {
    const r = makeRedactor(['on', '', 'abc']);
    assert.equal(r('turn it on, abc'), 'turn it on, abc');
    assert.equal(makeRedactor([])('x'), 'x');
  });

  test('regex characters in a secret are matched literally', () => {
    const r = makeRedactor(['a.b*c']);
    assert.equal(r('aXbbc a.b*c'), 'aXbbc ***');
  });

  test('every URL encoding of a secret is replaced: either hex case, reserved characters encoded or not, form encoding', () => {
    const secret = "Tok3n/S3cret+Value!*'()";
    const r = makeRedactor([secret]);
    const forms = [
      encodeURIComponent(secret), // leaves ! * ' ( ) alone
      'Tok3n%2FS3cret%2BValue%21%2A%27%28%29', // every reserved character encoded (Python's quote(s, safe=''))
      'Tok3n%2fS3cret%2bValue%21%2a%27%28%29', // lowercase hex
      'Tok3n/S3cret%2BValue!*%27()', // a mix, e.g. Python's quote() keeps '/'
      encodeURI(secret),
    ];
    for (const f of forms) assert.equal(r(`u=${f}&x=1`), 'u=***&x=1', f);
    const spaced = makeRedactor(['my secret pw']);
    for (const f of ['my+secret+pw', 'my%20secret%20pw', 'my+secret%20pw']) assert.equal(spaced(`pw=${f};`), 'pw=***;', f);
    const unicode = makeRedactor(['pässwörd']);
    for (const f of [encodeURIComponent('pässwörd'), encodeURIComponent('pässwörd').toLowerCase()]) assert.equal(unicode(`p=${f}`), 'p=***', f);
  });

  test('URL encoding masks only the secret: other percent escapes are left alone', () => {
    const r = makeRedactor(['ab/cd']);
    assert.equal(r('ab%2Fce ab%2fcd'), 'ab%2Fce ***');
  });

  test('overlapping secrets are masked together, leaving no piece of either', () => {
    const r = makeRedactor(['abcdef', 'defghi']);
    assert.equal(r('x abcdefghi y'), 'x *** y');
    assert.equal(r('x defghi abcdef y'), 'x *** *** y');
  });
});

describe('StreamRedactor', () => {
  test('text without secrets passes through unchanged, whatever the chunking', () => {
    const text = 'building…\nstep 1 ok\nstep 2 ok\n';
    for (const chunks of splits(text)) assert.equal(stream([SECRET], chunks), text);
    assert.equal(stream([], ['a', 'b']), 'ab');
  });

  test('with no secrets configured every chunk is released at once', () => {
    const r = new StreamRedactor(['x']);
    assert.equal(r.push('abc'), 'abc');
    assert.equal(r.end(), '');
  });

  test('a secret split across 2 and 3 chunks is still replaced', () => {
    const text = `before ${SECRET} after\n`;
    for (const chunks of splits(text)) {
      assert.equal(stream([SECRET], chunks), 'before *** after\n', JSON.stringify(chunks));
    }
  });

  test('base64 and URL-encoded forms split across chunks are replaced', () => {
    const text = `a=${b64(SECRET)}; u=${encodeURIComponent(SECRET)}; b=${b64(`user:${SECRET}`)}\n`;
    for (const chunks of splits(text)) {
      const out = stream([SECRET], chunks);
      assert.ok(!out.includes(b64(SECRET).slice(2, 12)) && !out.includes('p%40ss'), `${JSON.stringify(chunks)} → ${out}`);
      assert.equal(out, makeRedactor([SECRET])(text));
    }
  });

  test('a lowercase or form-encoded secret split across chunks is replaced', () => {
    const secret = 'my secret/pw';
    const text = `a=my+secret%2fpw b=MY+SECRET%2Fpw\n`;
    for (const chunks of splits(text)) assert.equal(stream([secret], chunks), 'a=*** b=MY+SECRET%2Fpw\n', JSON.stringify(chunks));
  });

  test('overlapping secrets split across chunks leave no piece of either', () => {
    const text = 'x abcdefghi y';
    for (const chunks of splits(text)) assert.equal(stream(['abcdef', 'defghi'], chunks), 'x *** y', JSON.stringify(chunks));
  });

  test('holds back only a short tail and releases it at the end', () => {
    const r = new StreamRedactor([SECRET]);
    const text = 'line one\nline two\nline three\nline four\n';
    const first = r.push(text);
    assert.ok(first.length > 0 && text.startsWith(first));
    const held = text.slice(first.length);
    assert.ok(held.length < encodeURIComponent(SECRET).length, 'holds less than the longest form');
    assert.equal(r.push(''), '');
    assert.equal(r.end(), held);
    assert.equal(r.end(), '');
  });

  test('a secret at the very end is replaced on end()', () => {
    const r = new StreamRedactor([SECRET]);
    const out = r.push(`tail ${SECRET.slice(0, 5)}`) + r.push(SECRET.slice(5)) + r.end();
    assert.equal(out, 'tail ***');
  });
});

describe('StreamRedactor and newlines', () => {
  test('complete lines are released at once; only the unfinished line waits', () => {
    const r = new StreamRedactor([SECRET]);
    assert.equal(r.push('step 1\nstep 2\npart'), 'step 1\nstep 2\n');
    assert.equal(r.push(` ${SECRET.slice(0, 4)}`), '');
    assert.equal(r.push(`${SECRET.slice(4)} done\n`), 'part *** done\n');
  });

  test('a secret that contains a newline is found across chunks (lines are then held back too)', () => {
    const pem = '-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----';
    const text = `key:\n${pem}\nok\n`;
    for (const chunks of splits(text)) assert.equal(stream([pem], chunks), 'key:\n***\nok\n', JSON.stringify(chunks));
  });
});
