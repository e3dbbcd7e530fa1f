declare module "cluster-key-slot" {
  /** The Redis Cluster slot of a key (CRC16 of its hash tag, or of the whole key), 0..16383. */
  const calculateSlot: (key: string) => number;
  export default calculateSlot;
}
