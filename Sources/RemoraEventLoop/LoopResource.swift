/// An object that owns a libuv handle on one loop, and whose `handle.data`
/// points at it. `EventLoop.stop()` walks the loop's handles and asks each
/// owner to close, so that every owner's own close path (and its delegate
/// calls) runs, and every handle is freed in its `uv_close` callback.
protocol LoopResource: AnyObject {
    /// Close as if the owner had asked; called on the loop thread while the loop stops.
    func closeForLoopShutdown()
}
