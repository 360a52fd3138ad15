/**
 * jobmeter's protobuf exposition read back with the official client_model metrics.proto (fetched
 * with the test peers, test/support/peers.ts): each length-delimited MetricFamily as a plain
 * object, 64-bit integers as numbers, fields left unset left out.
 */
import protobuf from 'protobufjs';
import { protobufBuffers } from '../../src/exposition/protobuf.ts';
import type { RenderFamily } from '../../src/exposition/render-model.ts';
import { clientModelProto } from './peers.ts';

/** `families` written as the protobuf exposition, each piece copied as it comes (they are transient). */
export function protobufBytes(families: readonly RenderFamily[]): Buffer {
  return Buffer.concat(Array.from(protobufBuffers(families), (piece) => Buffer.from(piece)));
}

/** `families` written as the protobuf exposition and decoded; `T`: the fields the caller reads. */
export async function decodeProtobufExposition<T>(families: readonly RenderFamily[]): Promise<T[]> {
  const root = await protobuf.load(clientModelProto());
  const type = root.lookupType('io.prometheus.client.MetricFamily');
  const reader = protobuf.Reader.create(protobufBytes(families));
  const out: T[] = [];
  while (reader.pos < reader.len)
    out.push(type.toObject(type.decodeDelimited(reader), { longs: Number, defaults: false }) as T);
  return out;
}
