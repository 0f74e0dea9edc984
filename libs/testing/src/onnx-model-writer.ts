/**
 * Just enough of the ONNX protobuf schema (onnx/onnx.proto3) to write a small inference
 * graph: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto.
 * Field numbers are the ones in onnx.proto3; everything is encoded by hand (varints and
 * length-delimited fields) so the tests need neither Python nor a protobuf package.
 */

/** onnx.TensorProto.DataType */
export const OnnxType = { float: 1, int64: 7 } as const;
type OnnxElement = (typeof OnnxType)[keyof typeof OnnxType];

export interface OnnxTensor {
  name: string;
  type: OnnxElement;
  dims: number[];
  /** float32 for `float`, bigint64 for `int64` */
  data: Float32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  type: OnnxElement;
  /** a number is a fixed size, a string a symbolic one (`batch`, `sequence`) */
  shape: (number | string)[];
}

export type OnnxAttribute =
  | { name: string; int: number }
  | { name: string; float: number }
  | { name: string; ints: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: OnnxAttribute[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** default opset of the ai.onnx domain; 13 has every operator the tests use */
  opset?: number;
}

/** Serialises `graph` as a ModelProto (IR version 8). */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const model = new ProtoWriter()
    .varint(1, 8) // ir_version
    .string(2, 'quarry-tests') // producer_name
    .message(7, encodeGraph(graph))
    .message(8, new ProtoWriter().string(1, '').varint(2, graph.opset ?? 13)); // opset_import
  return model.finish();
}

function encodeGraph(graph: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  graph.nodes.forEach((node, i) => w.message(1, encodeNode(node, i)));
  w.string(2, graph.name);
  for (const t of graph.initializers) w.message(5, encodeTensor(t));
  for (const v of graph.inputs) w.message(11, encodeValueInfo(v));
  for (const v of graph.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

function encodeNode(node: OnnxNode, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name ?? `${node.op}_${index}`);
  w.string(4, node.op);
  for (const a of node.attributes ?? []) w.message(5, encodeAttribute(a));
  return w;
}

// onnx.AttributeProto.AttributeType
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

function encodeAttribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if ('int' in a) return w.varint(3, a.int).varint(20, ATTRIBUTE_INT);
  if ('float' in a) return w.float(2, a.float).varint(20, ATTRIBUTE_FLOAT);
  for (const v of a.ints) w.varint(8, v);
  return w.varint(20, ATTRIBUTE_INTS);
}

function encodeTensor(t: OnnxTensor): ProtoWriter {
  const expected = t.dims.reduce((n, d) => n * d, 1);
  if (t.data.length !== expected) {
    throw new RangeError(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims}]`);
  }
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.type);
  w.string(8, t.name);
  // raw_data is little-endian, which typed arrays are on every platform Node supports.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, v.type).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

/** Protobuf wire format: varint (type 0), 32-bit (type 5), length-delimited (type 2). */
class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.parts.push(varintBytes(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.parts.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.parts.push(varintBytes(value.length), value);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }

  private tag(field: number, wireType: number): void {
    this.parts.push(varintBytes(field * 8 + wireType));
  }
}

function varintBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint out of range: ${value}`);
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}
