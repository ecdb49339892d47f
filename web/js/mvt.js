// A minimal Mapbox Vector Tile (MVT 2.1) decoder: layers, features (id, properties, type, geometry in
// tile coordinates) and an even-odd point-in-polygon test. Enough for the static site to say which
// polygons of a tile hold a point; no dependency, so node tests can import it.

/** Reads protobuf varints, fixed-size numbers and length-delimited fields from a byte array. */
class Reader {
  constructor(bytes, start = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = start;
    this.end = end;
  }

  varint() {
    let result = 0;
    let shift = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('MVT: truncated varint');
      const byte = this.b[this.pos++];
      result += (byte & 0x7f) * shift;
      if (byte < 0x80) return result;
      shift *= 128;
      if (shift > 2 ** 63) throw new Error('MVT: varint too long');
    }
  }

  /** [field number, wire type] of the next key. */
  key() {
    const k = this.varint();
    return [Math.floor(k / 8), k % 8];
  }

  /** A sub-reader over the next length-delimited field. */
  sub() {
    const n = this.varint();
    const start = this.pos;
    this.pos += n;
    if (this.pos > this.end) throw new Error('MVT: truncated field');
    return new Reader(this.b, start, this.pos);
  }

  string() {
    const r = this.sub();
    return new TextDecoder().decode(this.b.subarray(r.pos, r.end));
  }

  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`MVT: unknown wire type ${wire}`);
  }

  /** Packed varints (or a single unpacked one, both are valid encodings). */
  packed(wire, out) {
    if (wire !== 2) {
      out.push(this.varint());
      return out;
    }
    const r = this.sub();
    while (r.pos < r.end) out.push(r.varint());
    return out;
  }

  double() {
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  float() {
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
}

const zigzag = (n) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

function value(r) {
  let v = null;
  while (r.pos < r.end) {
    const [field, wire] = r.key();
    if (field === 1) v = r.string();
    else if (field === 2) v = r.float();
    else if (field === 3) v = r.double();
    else if (field === 4 || field === 5) v = r.varint();
    else if (field === 6) v = zigzag(r.varint());
    else if (field === 7) v = r.varint() !== 0;
    else r.skip(wire);
  }
  return v;
}

/** Rings (arrays of [x, y]) of a feature's geometry commands. */
function rings(commands) {
  const out = [];
  let ring = null;
  let x = 0;
  let y = 0;
  for (let i = 0; i < commands.length; ) {
    const command = commands[i] & 7;
    const count = commands[i] >>> 3;
    i += 1;
    if (command === 7) {
      ring = null;
      continue;
    }
    for (let k = 0; k < count; k += 1) {
      x += zigzag(commands[i]);
      y += zigzag(commands[i + 1]);
      i += 2;
      if (command === 1) {
        ring = [];
        out.push(ring);
      }
      ring?.push([x, y]);
    }
  }
  return out;
}

/**
 * Decodes an MVT tile.
 * @param {Uint8Array} bytes the tile, uncompressed
 * @returns {Map<string, {extent: number, features: {id?: number, type: number, properties: object, rings: number[][][]}[]}>}
 */
export function decodeTile(bytes) {
  const layers = new Map();
  const tile = new Reader(bytes);
  while (tile.pos < tile.end) {
    const [field, wire] = tile.key();
    if (field !== 3 || wire !== 2) {
      tile.skip(wire);
      continue;
    }
    const r = tile.sub();
    let name = '';
    let extent = 4096;
    const keys = [];
    const values = [];
    const raw = [];
    while (r.pos < r.end) {
      const [f, w] = r.key();
      if (f === 1) name = r.string();
      else if (f === 2) raw.push(r.sub());
      else if (f === 3) keys.push(r.string());
      else if (f === 4) values.push(value(r.sub()));
      else if (f === 5) extent = r.varint();
      else r.skip(w);
    }
    const features = raw.map((fr) => {
      const feature = { type: 0, properties: {}, rings: [] };
      let tags = [];
      let geometry = [];
      while (fr.pos < fr.end) {
        const [f, w] = fr.key();
        if (f === 1) feature.id = fr.varint();
        else if (f === 2) tags = fr.packed(w, tags);
        else if (f === 3) feature.type = fr.varint();
        else if (f === 4) geometry = fr.packed(w, geometry);
        else fr.skip(w);
      }
      for (let i = 0; i + 1 < tags.length; i += 2) feature.properties[keys[tags[i]]] = values[tags[i + 1]];
      feature.rings = rings(geometry);
      return feature;
    });
    layers.set(name, { extent, features });
  }
  return layers;
}

/** True when [x, y] is inside the polygon `rings` (even-odd rule, so holes count as outside). */
export function ringsContain(rings, [x, y]) {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/** The tile (x, y) at zoom `z` holding (lon, lat), and the point's position in it as a fraction [0, 1). */
export function tileOf(z, lon, lat) {
  const n = 2 ** z;
  const fx = ((lon + 180) / 360) * n;
  const rad = (lat * Math.PI) / 180;
  const fy = ((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n;
  const x = Math.min(n - 1, Math.max(0, Math.floor(fx)));
  const y = Math.min(n - 1, Math.max(0, Math.floor(fy)));
  return { x, y, fx: fx - x, fy: fy - y };
}
