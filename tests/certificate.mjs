// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A self-signed certificate for 127.0.0.1, made with openssl for the TLS
// tests of every suite (noom-server --tls-cert / --tls-key).
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

// Writes cert.pem and key.pem into @dir.  Returns {cert, key}, or throws
// with openssl's message.
export function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`openssl: ${r.error ? r.error.message : r.stderr}`);
  return { cert, key };
}
