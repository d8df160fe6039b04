package dev.iommulab.iopf;

import dev.iommulab.core.Device;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code iopf.group-allocation: bounded-pool}: {@link #poolSize()} preallocated groups shared by every
 * device, at most {@link #maxOpenPerDevice()} of them open (allocated, not yet freed) per device. Nothing
 * is allocated on the fault path, so injected allocation failures do not apply; when the pool or the
 * device's share is exhausted the request is answered INVALID as back-pressure.
 */
public final class BoundedPoolAllocation implements GroupAllocation {

    /** Default of {@code iopf.group-allocation.pool-size}. */
    public static final int DEFAULT_POOL_SIZE = 256;
    /** Default of {@code iopf.group-allocation.max-open-per-device}. */
    public static final int DEFAULT_MAX_OPEN_PER_DEVICE = 32;

    private final int poolSize;
    private final int maxOpenPerDevice;
    private final Map<Device, Integer> open = new HashMap<>();
    private int inUse;

    public BoundedPoolAllocation(int poolSize, int maxOpenPerDevice) {
        if (poolSize <= 0 || maxOpenPerDevice <= 0) {
            throw new IllegalArgumentException("pool size and per-device limit must be positive");
        }
        this.poolSize = poolSize;
        this.maxOpenPerDevice = maxOpenPerDevice;
    }

    @Override
    public Outcome allocate(Device dev) {
        int mine = open.getOrDefault(dev, 0);
        if (inUse >= poolSize || mine >= maxOpenPerDevice) {
            return Outcome.BACK_PRESSURE;
        }
        inUse++;
        open.put(dev, mine + 1);
        return Outcome.GRANTED;
    }

    @Override
    public void release(Device dev) {
        inUse--;
        open.merge(dev, -1, Integer::sum);
    }

    public int poolSize() {
        return poolSize;
    }

    public int maxOpenPerDevice() {
        return maxOpenPerDevice;
    }

    /** Groups of the pool in use. */
    public int inUse() {
        return inUse;
    }
}
