package dev.iommulab.drivers;

/** A {@code hardware.options} entry a platform does not accept; {@link #key()} names it. */
public final class PlatformOptionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;

    public PlatformOptionException(String key, String message) {
        super("hardware.options." + key + ": " + message);
        this.key = key;
    }

    /** The option key, without the {@code hardware.options.} prefix. */
    public String key() {
        return key;
    }
}
