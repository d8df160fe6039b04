package dev.iommulab.hw.sim;

import java.util.SplittableRandom;

/**
 * The only source of randomness in the simulation: seeded, so a run replays exactly from its seed.
 * Used by the jitter mode and by randomised scenarios.
 */
public final class SimRandom {

    private final long seed;
    private final SplittableRandom random;

    public SimRandom(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    public long seed() {
        return seed;
    }

    /** A value in [0, bound). */
    public long nextLong(long bound) {
        return random.nextLong(bound);
    }

    /** A value in [0, bound). */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    public boolean nextBoolean() {
        return random.nextBoolean();
    }

    /** An independent stream derived from this one, e.g. one per device. */
    public SimRandom split() {
        return new SimRandom(random.nextLong());
    }
}
